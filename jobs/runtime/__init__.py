"""What the web side and the job functions share at run time: Redis and ARQ clients, key names, the queue,
run tracking, live events, worker monitoring, user control of runs, date-range triggers and the upload doors.

May import `stores`, `integrations`, `engines` and `models`; never `tasks`, `cli`, `demo` or `auth`.
"""
