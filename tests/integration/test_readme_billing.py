"""The README's billing example runs as written against the emulator."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pixop_async import Pixop
from pixop_async.emulator import EmulatorServer
from pixop_async.models.processing_options import VideoProcessingConfigurationOptions
from tests.integration.processing_fixtures import make_source

README = Path(__file__).resolve().parents[2] / "README.md"


def billing_example() -> str:
    section = README.read_text().split("### Billing (API 2.1.0)", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the billing section has one python example"
    return blocks[0]


@pytest.mark.parametrize("team_index", [0, 1])  # a Stripe and an AWS Marketplace video
async def test_readme_billing_example_runs(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path, team_index: int
) -> None:
    source = make_source(pixop_emulator, tmp_path, team_index=team_index)
    options = VideoProcessingConfigurationOptions.from_json(
        {
            "filters": {"scaler": "DVRES2"},
            "filterSettings": {"resolution": {"tag": "2X"}},
            "container": "MOV",
        }
    )
    printed: list[tuple[Any, ...]] = []
    code = "async def example(px, video_id, options, print):\n" + textwrap.indent(
        billing_example(), "    "
    )
    namespace: dict[str, Any] = {}
    exec(compile(code, str(README), "exec"), namespace)
    await namespace["example"](pixop_client, source["id"], options, lambda *a: printed.append(a))
    currency, total = printed[-1]
    assert currency == ("USD" if team_index == 0 else "PIXOP_CREDITS")
    assert total > 0
    assert len(printed) >= 6
