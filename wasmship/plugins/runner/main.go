// Command wasmship-wazero runs one wasip1 module under wazero for `wasmship smoke`: a memory
// cap, a wall-clock deadline, and only the capabilities granted on the command line. What
// happened is written as JSON to -report; the module's stdout and stderr pass through.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

const pageSize = 65536

// Report is what wasmship reads back; its Python reader is wasmship/plugins/wazero.py.
type Report struct {
	Runtime     string   `json:"runtime"`
	Ran         bool     `json:"ran"`            // the module was instantiated and started
	ExitCode    *uint32  `json:"exit_code"`      // proc_exit's code, if it called it
	Deadline    bool     `json:"deadline"`       // stopped at the deadline
	MemoryCap   uint64   `json:"memory_cap"`     // bytes
	MemoryAsked uint64   `json:"memory_asked"`   // bytes a refused memory.grow asked for
	Trap        string   `json:"trap,omitempty"` // a trap's first line
	Error       string   `json:"error,omitempty"`
	Results     []string `json:"results,omitempty"`
	Called      string   `json:"called,omitempty"`
	StartedAs   string   `json:"started_as,omitempty"` // _start (a command) or _initialize (a reactor)
}

type grants map[string]bool

func main() {
	report := Report{Runtime: runtimeVersion()}
	var (
		reportPath = flag.String("report", "", "write the outcome as JSON to `FILE`")
		memory     = flag.Uint64("memory", 512<<20, "memory cap in `BYTES`")
		timeout    = flag.Duration("timeout", time.Minute, "wall-clock deadline")
		grantList  = flag.String("grant", "", "comma-separated capabilities: stdout,stderr,clock,random,args,env,fs")
		dir        = flag.String("dir", "", "the folder mounted at / when fs is granted")
		name       = flag.String("name", "module", "argv[0] of the module")
		call       = flag.String("call", "", "call this exported function with the arguments after MODULE")
		cacheDir   = flag.String("cache", "", "wazero's compilation cache folder")
		version    = flag.Bool("version", false, "print the wazero version and exit")
	)
	var envs, args multi
	flag.Var(&envs, "env", "KEY=VALUE given to the module when env is granted (repeatable)")
	flag.Var(&args, "arg", "an argument after argv[0] when args is granted (repeatable)")
	flag.Parse()
	if *version {
		fmt.Println(report.Runtime)
		return
	}
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: wasmship-wazero [options] MODULE [CALL-ARGS...]")
		os.Exit(2)
	}
	granted := grants{}
	for _, g := range strings.Split(*grantList, ",") {
		if g != "" {
			granted[g] = true
		}
	}
	report.MemoryCap = *memory
	run(&report, flag.Arg(0), flag.Args()[1:], options{
		memory: *memory, timeout: *timeout, granted: granted, dir: *dir, name: *name,
		call: *call, cacheDir: *cacheDir, env: envs, args: args,
	})
	if *reportPath != "" {
		data, _ := json.Marshal(report)
		if err := os.WriteFile(*reportPath, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "wasmship-wazero:", err)
			os.Exit(2)
		}
	}
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	memory   uint64
	timeout  time.Duration
	granted  grants
	dir      string
	name     string
	call     string
	cacheDir string
	env      []string
	args     []string
}

func run(report *Report, path string, callArgs []string, o options) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		report.Error = err.Error()
		return
	}
	// The runtime's own allocator refuses a memory.grow past the cap: the module sees the
	// same failed grow a host's WithMemoryLimitPages gives it, and the report says what it asked.
	ctx := experimental.WithMemoryAllocator(context.Background(), &capped{limit: o.memory, report: report})
	config := wazero.NewRuntimeConfig().WithCloseOnContextDone(true)
	if o.cacheDir != "" {
		if cache, err := wazero.NewCompilationCacheWithDir(o.cacheDir); err == nil {
			config = config.WithCompilationCache(cache)
		}
	}
	r := wazero.NewRuntimeWithConfig(ctx, config)
	defer r.Close(ctx)
	compiled, err := r.CompileModule(ctx, wasm)
	if err != nil {
		report.Error = "cannot compile the module: " + err.Error()
		return
	}
	for _, m := range compiled.ExportedMemories() {
		if min := uint64(m.Min()) * pageSize; min > o.memory {
			report.MemoryAsked = min
			report.Error = fmt.Sprintf("the module starts with %d bytes of memory", min)
			return
		}
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		report.Error = err.Error()
		return
	}
	start := "_start"
	if _, reactor := compiled.ExportedFunctions()["_initialize"]; reactor {
		start = "_initialize"
	}
	report.StartedAs = start
	module := moduleConfig(o).WithStartFunctions(start)
	if o.granted["fs"] && o.dir != "" {
		module = module.WithFSConfig(wazero.NewFSConfig().WithDirMount(o.dir, "/"))
	}
	runCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	report.Ran = true
	mod, err := r.InstantiateModule(runCtx, compiled, module)
	if err != nil {
		outcome(report, err)
		return
	}
	if start == "_start" {
		var zero uint32 // main returned: Go's runtime exits 0, and wazero closes the module
		report.ExitCode = &zero
	}
	if o.call == "" {
		return
	}
	if mod.IsClosed() {
		report.Error = fmt.Sprintf("cannot call %s: the module is a command, and it exited "+
			"when its main returned; build it as a reactor (-buildmode=c-shared) to call "+
			"its exports", o.call)
		return
	}
	report.Called = o.call
	fn := mod.ExportedFunction(o.call)
	if fn == nil {
		report.Error = fmt.Sprintf("the module exports no function %q", o.call)
		return
	}
	params, err := encode(fn.Definition(), callArgs)
	if err != nil {
		report.Error = err.Error()
		return
	}
	results, err := fn.Call(runCtx, params...)
	if err != nil {
		outcome(report, err)
		return
	}
	report.Results = decode(fn.Definition().ResultTypes(), results)
}

func moduleConfig(o options) wazero.ModuleConfig {
	c := wazero.NewModuleConfig().WithName("").WithArgs(o.name)
	if o.granted["args"] {
		c = c.WithArgs(append([]string{o.name}, o.args...)...)
	}
	if o.granted["stdout"] {
		c = c.WithStdout(os.Stdout)
	} else {
		c = c.WithStdout(io.Discard)
	}
	if o.granted["stderr"] {
		c = c.WithStderr(os.Stderr)
	} else {
		c = c.WithStderr(io.Discard)
	}
	if o.granted["clock"] {
		c = c.WithSysWalltime().WithSysNanotime().WithSysNanosleep()
	}
	if o.granted["random"] {
		c = c.WithRandSource(rand.Reader)
	}
	if o.granted["env"] {
		for _, kv := range o.env {
			k, v, _ := strings.Cut(kv, "=")
			c = c.WithEnv(k, v)
		}
	}
	return c
}

// outcome records how a start function or a call ended.
func outcome(report *Report, err error) {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded, sys.ExitCodeContextCanceled:
			report.Deadline = true
		default:
			code := exit.ExitCode()
			report.ExitCode = &code
		}
		return
	}
	report.Trap = strings.SplitN(strings.TrimSpace(err.Error()), "\n", 2)[0]
}

// capped is a linear memory that refuses to grow past limit, and says what was asked.
type capped struct {
	limit  uint64
	report *Report
	buf    []byte
}

func (c *capped) Allocate(_, _ uint64) experimental.LinearMemory { return c }

func (c *capped) Reallocate(size uint64) []byte {
	if size > c.limit {
		if size > c.report.MemoryAsked {
			c.report.MemoryAsked = size
		}
		return nil
	}
	if size <= uint64(cap(c.buf)) {
		c.buf = c.buf[:size]
		return c.buf
	}
	grown := make([]byte, size, max(size, min(2*uint64(cap(c.buf)), c.limit)))
	copy(grown, c.buf)
	c.buf = grown
	return c.buf
}

func (c *capped) Free() { c.buf = nil }

func runtimeVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/tetratelabs/wazero" {
				return "wazero " + dep.Version
			}
		}
	}
	return "wazero"
}
