from state.base import session_cookie


def test_session_cookie_is_read_from_the_header() -> None:
    assert session_cookie("a=1; sg_session=sg_abc123; b=2") == "sg_abc123"


def test_absent_or_garbled_cookie_gives_empty() -> None:
    assert session_cookie("") == ""
    assert session_cookie("other=1") == ""
    assert session_cookie('sg_session="unterminated') == ""
