"""tinygrad_ng.allocator: freed memory kept for reuse through glibc's mallopt."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from tinygrad_ng import allocator


class Recorder:
    def __init__(self, result: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self.result = result

    def __call__(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.result


def test_keeping_sets_both_thresholds_and_releasing_restores_glibcs_defaults(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(allocator, "_mallopt", lambda: rec)
    assert allocator.keep_freed_memory(True) is True
    assert rec.calls == [(-3, 32 * 2**20), (-1, 512 * 2**20)]
    rec.calls.clear()
    assert allocator.keep_freed_memory(False) is True
    assert rec.calls == [(-3, 128 * 2**10), (-1, 128 * 2**10)]


def test_a_refused_setting_is_reported(monkeypatch):
    monkeypatch.setattr(allocator, "_mallopt", lambda: Recorder(result=0))
    assert allocator.keep_freed_memory(True) is False


def test_without_glibc_nothing_is_called(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda: ("", ""))
    assert allocator._mallopt() is None
    assert allocator.keep_freed_memory(True) is False


@pytest.mark.parametrize(("value", "kept"), [(None, True), ("1", True), ("0", False)])
def test_the_environment_variable_decides_at_import(monkeypatch, value, kept):
    seen: list[bool] = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda enable=True: seen.append(enable))
    allocator._from_environment({} if value is None else
                                {"TINYGRAD_NG_KEEP_FREED_MEMORY": value})
    assert seen == ([True] if kept else [])


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="mallopt is glibc's")
def test_on_glibc_the_setting_takes_effect_and_arrays_are_unaffected():
    try:
        assert allocator.keep_freed_memory(False) is True
        a = np.arange(2**22, dtype=np.float64)  # 32 MiB: glibc's mmap path
        assert allocator.keep_freed_memory(True) is True
        b = np.arange(2**22, dtype=np.float64)
        np.testing.assert_array_equal(a, b)
    finally:
        allocator.keep_freed_memory(True)
