from jobs.runtime.redact import safe_error


def test_credentials_are_masked() -> None:
    text = ("connect postgresql://svc:hunter2@db/x failed; token sg_AbCdEfGhIjKlMnOp; password=swordfish "
            "Authorization: Bearer abc.def.ghi")
    safe = safe_error(text)
    for secret in ("hunter2", "sg_AbCdEfGhIjKlMnOp", "swordfish", "abc.def.ghi"):
        assert secret not in safe
    assert "postgresql://svc:***@db/x" in safe


def test_long_errors_are_cut_to_the_limit() -> None:
    safe = safe_error("x" * 5000, limit=200)
    assert len(safe) == 200 and safe.endswith("…")


def test_plain_errors_pass_unchanged() -> None:
    assert safe_error("ValueError: window must be positive") == "ValueError: window must be positive"
