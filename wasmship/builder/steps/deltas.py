"""Make `dcz` deltas: each browser module (and a changed shim) against each kept earlier version.

Every js target of the dist gets them, a carried one (--target left it out) too: its old
deltas were not carried, as their dictionaries may have been pruned since.

A returning visitor whose browser holds the previous module downloads only the delta. A delta
is kept only when it is smaller than the file's br variant; a file too large for the window
a client must accept (RFC 9842) gets no delta and is served br.

The compress step has started the deltas on the build's one encoding pool (builder/jobs.py,
which the pipeline owns), beside its variants; this step waits for them and decides, now that
br's sizes are known.
"""

from __future__ import annotations

from wasmship.builder.context import BuildContext
from wasmship.builder.encoding_plan import encoding_job, planned_deltas
from wasmship.builder.jobs import open_cache
from wasmship.distformat.digests import sha256_hex
from wasmship.distformat.model import Variant
from wasmship.distformat.names import DELTA_KEY_PREFIX, delta_path


def write_deltas(ctx: BuildContext) -> None:
    """Write `<path>.<dictionary hash prefix>.dcz` for every delta smaller than br."""
    deltas, skipped = planned_deltas(ctx)
    cache = open_cache(ctx.config)
    made = ctx.pool.results([encoding_job(ctx, delta, cache) for delta in deltas])
    kept = 0
    from_cache = sum(1 for result in made if result.cached)
    pairs = sorted(
        zip(deltas, made, strict=True), key=lambda p: (p[0].file.path, p[0].dictionary.path)
    )
    for job, result in pairs:
        body = result.data
        entry = ctx.files[job.file.logical]
        br = entry.encodings.get("br")
        if len(body) >= (br.size if br is not None else entry.size):
            continue  # br is smaller: nothing gained by a delta
        path = delta_path(entry.path, job.dictionary.sha256)
        (ctx.staging / path).write_bytes(body)
        ctx.files[entry.logical] = entry.with_variant(
            Variant(
                key=DELTA_KEY_PREFIX + job.dictionary.sha256,
                path=path,
                size=len(body),
                sha256=sha256_hex(body),
                coding="dcz",
                dictionary=job.dictionary.sha256,
            )
        )
        kept += 1
    if skipped:
        ctx.warnings.append(
            "no dcz delta (larger than the window a browser must accept; served br): "
            + ", ".join(skipped)
        )
    ctx.notes["deltas"] = (
        f"{kept} of {len(deltas)} kept, {from_cache} from cache"
        if deltas
        else "none (nothing earlier kept)"
    )
