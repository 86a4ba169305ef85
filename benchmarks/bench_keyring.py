"""The startup benchmark's keyring backend (``PYTHON_KEYRING_BACKEND=benchmarks.bench_keyring.BenchKeyring``):
answers fixed secrets for the Benchmark profile; its own module so the bare child never imports keyring."""

from __future__ import annotations

from keyring.backend import KeyringBackend


class BenchKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return "bench-secret-" + username.rsplit(":", 1)[-1]

    def set_password(self, service: str, username: str, password: str) -> None:
        pass

    def delete_password(self, service: str, username: str) -> None:
        pass
