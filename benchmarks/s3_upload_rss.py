"""Peak RSS of the SDK's S3 upload of one sparse file against ``benchmarks/s3_sink.py``.

    python benchmarks/s3_upload_rss.py 1      # GiB; run again with 16, 50: the figure is flat

The sink speaks the four multipart calls, checks each part's CRC32C and discards the bytes,
so nothing but the client's memory is measured (``VmHWM`` of this process).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pixop_async import S3Connection, upload_to_s3  # noqa: E402


def _vm_hwm_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1])
    return 0


async def measure(gib: float, port: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sparse.bin"
        with open(path, "wb") as handle:
            handle.truncate(int(gib * 1024**3))
        started, cpu = time.monotonic(), time.process_time()
        result = await upload_to_s3(
            path, "bench-bucket", "sparse.bin", resume=False,
            s3=S3Connection(
                endpoint_url=f"http://127.0.0.1:{port}",
                access_key="AKIABENCHMARK0000001",
                secret_access_key="bench-secret",
            ),
        )
        print(
            f"{gib:g} GiB: {len(result.parts)} parts, {time.monotonic() - started:.1f} s, "
            f"CPU {time.process_time() - cpu:.1f} s, peak RSS {_vm_hwm_kib() / 1024:.1f} MiB"
        )


def main() -> None:
    sink = subprocess.Popen(
        [sys.executable, str(HERE / "s3_sink.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sink.stdout is not None
        port = int(sink.stdout.readline().split()[1])
        asyncio.run(measure(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0, port))
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
