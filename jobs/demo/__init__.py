"""The demo tenant that `./run demo` seeds: from the public samples beside the project, else from a generated
Kubernetes estate with injected attacks (`estate`, `estate_model`).

May import `runtime`, `stores`, `engines` and `models`; only `cli` imports it.
"""
