#!/usr/bin/env python3
"""wasmship's benchmark: build three generated Go programs, compare with the plain pipeline.

    python benchmarks/run.py [--programs hello,embed,big] [--no-extras] [--json FILE]

Everything runs on this machine in one run. The programs are generated in a temporary folder
(nothing is downloaded); Go's build cache is warmed first, so every measured build has a warm Go
cache (as CI with a cached GOCACHE); wasmship's compression cache lives in the temporary folder,
never the user's. The plain pipeline is what a Makefile does: go build, cp wasm_exec.js,
gzip -9 -k, brotli -q 11 -k (Debian's brotli CLI). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wasmship.dist.reader import read_manifest  # noqa: E402
from wasmship.encodings.encoders import (  # noqa: E402
    GzipEncoder,
    Profile,
    Settings,
    encoders,
)

HELLO = """package main

import "fmt"

const build = "v1" // the line the benchmark changes

func main() { fmt.Println("hello from Go WebAssembly", build) }
"""

EMBED = """package main

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed corpus.txt
var corpus string

const build = "v1" // the line the benchmark changes

func main() {
	fmt.Println(build, len(corpus), strings.Count(corpus, "\\n"))
}
"""

BIG = r"""package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/csv"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	ttemplate "text/template"
	"time"
	"unicode/utf8"
)

const build = "v1" // the line the benchmark changes

type Item struct {
	Name  string            `json:"name" xml:"name"`
	Tags  []string          `json:"tags" xml:"tag"`
	Attrs map[string]string `json:"attrs" xml:"-"`
}

func main() {
	var out bytes.Buffer
	items := []Item{{Name: "a", Tags: []string{"x"}, Attrs: map[string]string{"k": "v"}}}
	j, _ := json.Marshal(items)
	x, _ := xml.Marshal(items)
	var g bytes.Buffer
	_ = gob.NewEncoder(&g).Encode(items)
	b64 := base64.StdEncoding.EncodeToString(j)
	fmt.Fprintln(&out, build, string(j), string(x), g.Len(), b64, hex.EncodeToString(x[:4]))
	_ = csv.NewWriter(&out).Write([]string{"a", "b"})

	t := ttemplate.Must(ttemplate.New("t").Parse("{{range .}}{{.Name}}{{end}}"))
	_ = t.Execute(&out, items)
	h := template.Must(template.New("h").Parse("<p>{{.}}</p>"))
	_ = h.Execute(&out, "<script>")
	re := regexp.MustCompile(`(\w+)@(\w+)\.com`)
	fmt.Fprintln(&out, re.FindAllStringSubmatch("a@b.com c@d.com", -1))

	sum := sha256.Sum256(j)
	sum5 := sha512.Sum512(x)
	mac := hmac.New(sha256.New, sum[:])
	mac.Write(j)
	block, _ := aes.NewCipher(sum[:])
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := gcm.Seal(nil, nonce, j, nil)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sig, _ := ecdsa.SignASN1(rand.Reader, ek, sum[:])
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 1024)
	tmpl := x509.Certificate{SerialNumber: big.NewInt(1), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &rk.PublicKey, rk)
	edsig := ed25519.Sign(edk, j)
	fmt.Fprintln(&out, len(sum5), len(mac.Sum(nil)), len(sealed), len(sig), len(edsig), len(der))

	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	_ = png.Encode(&out, img)
	_ = jpeg.Encode(&out, img, nil)
	_ = gif.Encode(&out, img, nil)

	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(j)
	zw.Close()
	fw, _ := flate.NewWriter(&z, 9)
	fw.Write(x)
	fw.Close()
	tw := tar.NewWriter(&z)
	tw.WriteHeader(&tar.Header{Name: "a", Size: 1, Mode: 0o644})
	tw.Write([]byte("a"))
	tw.Close()
	zipw := zip.NewWriter(&z)
	f, _ := zipw.Create("a")
	f.Write(j)
	zipw.Close()
	mw := multipart.NewWriter(&z)
	mw.WriteField("a", "b")
	mw.Close()


	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write(j) })
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/?q=1", nil))
	u, _ := url.Parse("https://example.org/a?b=c")
	addr, _ := mail.ParseAddress("A <a@example.org>")
	tab := tabwriter.NewWriter(&out, 0, 8, 1, ' ', 0)
	fmt.Fprintln(tab, "a\tb")
	tab.Flush()
	keys := []string{"b", "a"}
	sort.Strings(keys)
	runes := utf8.RuneCountInString("héllo")
	fmt.Println(out.Len(), rec.Code, u.Host, addr.Name, strings.Join(keys, ","), runes, z.Len())
}
"""


def corpus(size: int, seed: int = 7) -> str:
    """Deterministic English-like text: Zipf-distributed words from a made-up vocabulary."""
    rng = random.Random(seed)
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    weights = [26 - i for i in range(26)]
    vocabulary = ["".join(rng.choices(letters, weights, k=rng.randint(2, 10))) for _ in range(5000)]
    zipf = [1 / (rank + 1) for rank in range(len(vocabulary))]
    lines: list[str] = []
    total = 0
    while total < size:
        words = rng.choices(vocabulary, zipf, k=rng.randint(6, 18))
        line = " ".join(words).capitalize() + "."
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def generate(root: Path, name: str) -> Path:
    """Write one of the three programs as its own Go module under ROOT."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "go.mod").write_text(f"module example.com/{name}\n\ngo 1.21\n")
    source = {"hello": HELLO, "embed": EMBED, "big": BIG}[name]
    (folder / "main.go").write_text(source)
    if name == "embed":
        (folder / "corpus.txt").write_text(corpus(5 * 1024 * 1024))
    return folder


@dataclass
class Run:
    """One measured command: wall time and the peak resident memory of its process tree."""

    seconds: float
    peak_mib: float


def measure(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> Run:
    """Run CMD, timing it and reading the peak RSS of it and its children from wait4.

    Linux carries a process's peak RSS across fork and exec, so this process must stay small:
    everything heavy (compressions timed alone) runs in a child process.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"benchmark: {' '.join(cmd)} failed ({proc.returncode}):\n{stderr}")
    if proc.stderr:
        proc.stderr.close()
    return Run(seconds, usage.ru_maxrss / 1024)


@dataclass
class Result:
    """Everything measured for one program."""

    name: str
    wasm_size: int = 0
    go_build: float = 0.0
    go_build_change: float = 0.0
    plain: dict[str, Run] = field(default_factory=dict)
    wasmship: dict[str, Run] = field(default_factory=dict)
    extras: Run | None = None
    codec_seconds: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def lower_bound(self, scenario: str) -> float:
        """go build alone plus the slowest single compression of the largest file."""
        go = self.go_build_change if scenario == "change" else self.go_build
        slowest = max(v for k, v in self.codec_seconds.items() if k in ("br", "gzip"))
        return go + slowest


class Bench:
    """The tools, the environment and the scratch folder one benchmark run shares."""

    def __init__(self, root: Path, go: str) -> None:
        self.root = root
        self.go = go
        self.env = dict(os.environ)
        self.env.pop("NO_COLOR", None)
        self.env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
        )
        self.env["WASMSHIP_GO"] = go
        self.goroot = Path(
            subprocess.run(
                [go, "env", "GOROOT"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        self.goversion = subprocess.run(
            [go, "env", "GOVERSION"], capture_output=True, text=True, check=True
        ).stdout.strip()
        self.wasm_env = dict(self.env, GOOS="js", GOARCH="wasm", CGO_ENABLED="0")

    def shim(self) -> Path:
        for sub in ("lib/wasm", "misc/wasm"):
            if (self.goroot / sub / "wasm_exec.js").is_file():
                return self.goroot / sub / "wasm_exec.js"
        raise SystemExit("benchmark: no wasm_exec.js in GOROOT")

    def go_build_cmd(self, out: Path) -> list[str]:
        # The same flags wasmship passes, so the comparison is like for like.
        return [self.go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), "."]

    def go_build(self, folder: Path, out: Path) -> Run:
        return measure(self.go_build_cmd(out), folder, self.wasm_env)

    def plain(self, folder: Path, out: Path) -> Run:
        """The pipeline wasmship replaces, as a Makefile would run it."""
        out.mkdir(parents=True)
        script = " && ".join(
            [
                shlex.join(self.go_build_cmd(out / "main.wasm")),
                f"cp {self.shim()} {out / 'wasm_exec.js'}",
                f"gzip -9 -k {out / 'main.wasm'} {out / 'wasm_exec.js'}",
                f"/usr/bin/brotli -q 11 -k {out / 'main.wasm'} {out / 'wasm_exec.js'}",
            ]
        )
        return measure(["bash", "-c", script], folder, self.wasm_env)

    def wasmship(self, folder: Path, out: str, cache: Path, *args: str) -> Run:
        cmd = [sys.executable, "-m", "wasmship", "build", "-q", "-o", out]
        return measure([*cmd, "--cache-dir", str(cache), *args], folder, self.env)


def set_build(folder: Path, value: str) -> None:
    """Change the line every program has; a new value is new to Go's and wasmship's caches."""
    main = folder / "main.go"
    lines = main.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("const build = "))
    lines[index] = f'const build = "{value}" // the line the benchmark changes\n'
    main.write_text("".join(lines))


def variant_sizes(dist: Path) -> dict[str, int]:
    module = read_manifest(dist).targets[0].files["main.wasm"]
    return {name: variant.size for name, variant in module.encodings.items()}


CODEC_TIMER = """
import json, sys, time
from wasmship.encodings.encoders import Settings, compress
data = open(sys.argv[1], "rb").read()
settings = Settings(**json.loads(sys.argv[2]))
start = time.perf_counter()
size = len(compress(data, settings))
print(time.perf_counter() - start, size)
"""


def timed_codec(bench: Bench, path: Path, settings: Settings) -> tuple[float, int]:
    """One compression timed alone, in its own process (so this one stays small: see measure)."""
    out = subprocess.run(
        [sys.executable, "-c", CODEC_TIMER, str(path), json.dumps(settings.__dict__)],
        env=bench.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def run_program(bench: Bench, name: str, extras: bool, attempt: int = 0) -> Result:
    print(f"benchmark: {name} (run {attempt + 1})", file=sys.stderr, flush=True)
    folder = generate(bench.root / f"src-{attempt}", name)
    result = Result(name)
    scratch = bench.root / f"out-{attempt}" / name
    scratch.mkdir(parents=True)
    # Warm Go's cache for this program (compiling the standard library is not what we measure).
    bench.go_build(folder, scratch / "warmup.wasm")
    result.go_build = bench.go_build(folder, scratch / "go.wasm").seconds
    wasm = scratch / "go.wasm"
    result.wasm_size = wasm.stat().st_size

    # The plain pipeline: it has no cache, so every scenario redoes everything.
    result.plain["cold"] = bench.plain(folder, scratch / "plain-cold")
    result.plain["warm"] = bench.plain(folder, scratch / "plain-warm")
    set_build(folder, "plain-change")
    result.plain["change"] = bench.plain(folder, scratch / "plain-change")
    set_build(folder, "v1")
    plain = scratch / "plain-cold"
    result.sizes["plain br"] = (plain / "main.wasm.br").stat().st_size
    result.sizes["plain gz"] = (plain / "main.wasm.gz").stat().st_size

    # wasmship, release profile, an empty cache, then warm, then after a one-line change.
    cache = bench.root / f"cache-{attempt}" / name
    result.wasmship["cold"] = bench.wasmship(folder, "dist-cold", cache)
    result.wasmship["warm"] = bench.wasmship(folder, "dist-warm", cache)
    set_build(folder, "go-change")
    result.go_build_change = bench.go_build(folder, scratch / "go-change.wasm").seconds
    set_build(folder, "wasmship-change")
    result.wasmship["change"] = bench.wasmship(folder, "dist-change", cache)
    set_build(folder, "v1")
    for key, value in variant_sizes(folder / "dist-cold").items():
        result.sizes[f"wasmship {key}"] = value

    # The single compressions of the largest file, timed alone: the lower bound's second half.
    chosen = encoders(Profile.RELEASE, GzipEncoder.ZLIB, zstd=False)
    for encoder in chosen:
        settings = encoder.settings_for(result.wasm_size, "application/wasm")
        result.codec_seconds[encoder.encoding] = timed_codec(bench, wasm, settings)[0]
    # The window sized to the file against the binding's default window (22).
    sized = chosen[0].settings_for(result.wasm_size, "application/wasm")
    result.sizes["br window"] = sized.window
    if sized.window != 22:
        default = Settings(**{**sized.__dict__, "window": 22})
        result.sizes["br lgwin 22"] = timed_codec(bench, wasm, default)[1]
    result.sizes["gzip -9 -n"] = len(
        subprocess.run(
            ["gzip", "-9", "-n", "-c", str(wasm)], capture_output=True, check=True
        ).stdout
    )

    if extras:
        result.extras = bench.wasmship(
            folder,
            "dist-extras",
            bench.root / f"cache-{attempt}" / f"{name}-extras",
            "--gzip",
            "zopfli",
            "--zstd",
        )
        extra_sizes = variant_sizes(folder / "dist-extras")
        result.sizes["zopfli gz"] = extra_sizes["gzip"]
        result.sizes["zstd"] = extra_sizes["zstd"]
    return result


def fastest(runs: list[Result]) -> Result:
    """Per measurement, the fastest of several runs: the one least disturbed by other load."""
    best = runs[0]
    for other in runs[1:]:
        best.go_build = min(best.go_build, other.go_build)
        best.go_build_change = min(best.go_build_change, other.go_build_change)
        for mine, theirs in ((best.plain, other.plain), (best.wasmship, other.wasmship)):
            for key, run in theirs.items():
                if run.seconds < mine[key].seconds:
                    mine[key] = run
        for key, seconds in other.codec_seconds.items():
            best.codec_seconds[key] = min(best.codec_seconds[key], seconds)
        if other.extras and best.extras and other.extras.seconds < best.extras.seconds:
            best.extras = other.extras
    return best


def startup(bench: Bench, runs: int = 15) -> tuple[float, float]:
    """Median wall time of `wasmship --version`, and of a bare `python -c pass` for scale."""

    def median(cmd: list[str]) -> float:
        times = [measure(cmd, bench.root, bench.env).seconds for _ in range(runs)]
        return statistics.median(times)

    return median([sys.executable, "-m", "wasmship", "--version"]), median(
        [sys.executable, "-c", "pass"]
    )


def mib(size: int) -> str:
    return f"{size / 1024 / 1024:.2f} MiB"


def render(results: list[Result], start: tuple[float, float], machine: dict[str, str]) -> str:
    out: list[str] = []
    out.append("## Machine\n")
    for key, value in machine.items():
        out.append(f"- {key}: {value}")
    out.append("\n## Build time (seconds, wall)\n")
    out.append(
        "| program | wasm | go build | plain cold | plain warm | plain change "
        "| wasmship cold | wasmship warm | wasmship change | lower bound (cold / change) "
        "| cold vs bound | change vs bound | warm - go build |"
    )
    out.append("|" + "---|" * 13)
    for r in results:
        lb_cold, lb_change = r.lower_bound("cold"), r.lower_bound("change")
        w = r.wasmship
        out.append(
            f"| {r.name} | {mib(r.wasm_size)} | {r.go_build:.2f} | {r.plain['cold'].seconds:.2f} "
            f"| {r.plain['warm'].seconds:.2f} | {r.plain['change'].seconds:.2f} "
            f"| {w['cold'].seconds:.2f} | {w['warm'].seconds:.2f} | {w['change'].seconds:.2f} "
            f"| {lb_cold:.2f} / {lb_change:.2f} "
            f"| {w['cold'].seconds / lb_cold - 1:+.0%} "
            f"| {w['change'].seconds / lb_change - 1:+.0%} "
            f"| {w['warm'].seconds - r.go_build:+.2f} |"
        )
    out.append("\n## Sizes of main.wasm's variants (bytes)\n")
    out.append(
        "| program | brotli -q 11 | wasmship br | br lgwin 22 | gzip -9 (plain, with name) "
        "| gzip -9 -n | wasmship gz | zopfli gz | zstd |"
    )
    out.append("|" + "---|" * 9)
    for r in results:
        s = r.sizes
        lgwin22 = s.get("br lgwin 22")
        out.append(
            f"| {r.name} | {s['plain br']} | {s['wasmship br']} (w{s['br window']}) "
            f"| {lgwin22 if lgwin22 is not None else 'same window'} | {s['plain gz']} "
            f"| {s['gzip -9 -n']} | {s['wasmship gzip']} | {s.get('zopfli gz', '-')} "
            f"| {s.get('zstd', '-')} |"
        )
    out.append("\n## Single compressions of main.wasm (seconds) and the zopfli+zstd build\n")
    out.append("| program | br q11 | gzip 9 | wasmship --gzip zopfli --zstd, cold |")
    out.append("|---|---|---|---|")
    for r in results:
        extras = f"{r.extras.seconds:.2f}" if r.extras else "-"
        out.append(
            f"| {r.name} | {r.codec_seconds['br']:.2f} | {r.codec_seconds['gzip']:.2f} | {extras} |"
        )
    out.append("\n## Peak memory (MiB, largest process of the command)\n")
    out.append(
        "| program | plain cold | wasmship cold | wasmship warm | wasmship change | zopfli+zstd |"
    )
    out.append("|---|---|---|---|---|---|")
    for r in results:
        extras = f"{r.extras.peak_mib:.0f}" if r.extras else "-"
        out.append(
            f"| {r.name} | {r.plain['cold'].peak_mib:.0f} | {r.wasmship['cold'].peak_mib:.0f} "
            f"| {r.wasmship['warm'].peak_mib:.0f} | {r.wasmship['change'].peak_mib:.0f} "
            f"| {extras} |"
        )
    out.append(
        f"\nStart-up: `wasmship --version` {start[0] * 1000:.0f} ms "
        f"(median of 15; a bare `python -c pass` takes {start[1] * 1000:.0f} ms)."
    )
    return "\n".join(out) + "\n"


def machine_facts(bench: Bench) -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    brotli_cli = subprocess.run(["/usr/bin/brotli", "--version"], capture_output=True, text=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "nproc": str(os.cpu_count()),
        "CPU": model,
        "Go": bench.goversion,
        "Python": platform.python_version(),
        "brotli CLI": brotli_cli.stdout.strip() or "?",
        "gzip": subprocess.run(
            ["gzip", "--version"], capture_output=True, text=True
        ).stdout.splitlines()[0],
        "load average at start": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--programs", default="hello,embed,big")
    parser.add_argument("--go", default=os.environ.get("WASMSHIP_GO") or shutil.which("go"))
    parser.add_argument("--no-extras", action="store_true", help="skip the zopfli + zstd build")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run everything N times, keep the fastest of each"
    )
    args = parser.parse_args()
    for tool in ("/usr/bin/brotli", "gzip", "bash"):
        if not shutil.which(tool):
            raise SystemExit(f"benchmark: {tool} is needed (apt-get install brotli gzip)")
    if not args.go:
        raise SystemExit("benchmark: no go on PATH (or pass --go)")
    root = Path(tempfile.mkdtemp(prefix="wasmship-bench-"))
    try:
        bench = Bench(root, args.go)
        machine = machine_facts(bench)
        results = [
            fastest([run_program(bench, name, not args.no_extras, i) for i in range(args.repeat)])
            for name in args.programs.split(",")
        ]
        start = startup(bench)
        machine["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(render(results, start, machine))
        if args.json:
            args.json.write_text(
                json.dumps(
                    {"machine": machine, "results": [r.__dict__ for r in results]},
                    default=lambda o: o.__dict__,
                    indent=2,
                )
            )
    finally:
        if args.keep:
            print(f"benchmark: kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
