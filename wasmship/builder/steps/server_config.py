"""Step: write the server configs asked for (see build/server_configs/), as deploy helpers."""

from __future__ import annotations

from wasmship.builder.context import BuildContext
from wasmship.builder.server_configs import HELPER_PATHS, SERVER_CONFIGS, parse_server_configs
from wasmship.builder.server_configs.rules import Site, serving_rules
from wasmship.distformat.digests import sha256_hex
from wasmship.distformat.model import DeployHelper


def write_server_config(ctx: BuildContext) -> None:
    """Write each server config asked for and record it as a deploy helper (never compressed)."""
    wanted = parse_server_configs(ctx.config.server_configs, "server_configs")
    rules = serving_rules(ctx.files.values(), (k.file for k in ctx.kept))
    site = Site(spa=ctx.config.spa, headers=(*ctx.header_rules, *ctx.config.headers))
    for config in SERVER_CONFIGS:
        if config.name not in wanted or not config.wanted(site):
            continue
        data = config.render(rules, HELPER_PATHS, site).encode("utf-8")
        (ctx.staging / config.path).write_bytes(data)
        ctx.deploy_helpers[config.key] = DeployHelper(
            name=config.key, path=config.path, size=len(data), sha256=sha256_hex(data)
        )
    ctx.notes["server_config"] = ", ".join(h.path for h in ctx.deploy_helpers.values())
