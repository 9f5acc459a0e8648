"""The public API is what `__all__` says, sorted, and every name in it is importable."""

import gatekeeper


def test_all_is_sorted_and_exported():
    assert gatekeeper.__all__ == sorted(gatekeeper.__all__)
    for name in gatekeeper.__all__:
        assert getattr(gatekeeper, name) is not None
    public = {n for n in vars(gatekeeper) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(gatekeeper, n)).__name__ == "module"}
    assert public - modules == set(gatekeeper.__all__)
