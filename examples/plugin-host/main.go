// Command plugin-host loads a wasip1 plugin from a wasmship dist the way a production Go
// service should: it reads the dist's manifest.json, checks the module's SHA-256 before
// compiling a byte of it, compiles once, instantiates many times, and runs each instance with
// a memory cap, a deadline and only the capabilities the plugin's allow list names.
//
//	plugin-host -dist dist -target add -instances 3 -call add 2 3
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// The capabilities this host knows how to grant; a plugin allowed anything else is refused.
var grantable = []string{"args", "clock", "exit", "poll", "random", "stderr", "stdout"}

// manifest is the part of wasmship's manifest.json this host reads (schema 1).
type manifest struct {
	Schema  int `json:"schema"`
	Targets []struct {
		Name  string `json:"name"`
		Goos  string `json:"goos"`
		Files map[string]struct {
			Path   string `json:"path"`
			Size   int64  `json:"size"`
			Sha256 string `json:"sha256"`
		} `json:"files"`
		Interface *struct {
			Exports []struct{ Name, Kind string } `json:"exports"`
			Allow   []string                      `json:"allow"`
		} `json:"interface"`
	} `json:"targets"`
}

// plugin is a verified module: its bytes match the manifest, its allow list is grantable.
type plugin struct {
	name  string
	wasm  []byte
	allow []string
}

func main() {
	dist := flag.String("dist", "dist", "the wasmship dist folder")
	target := flag.String("target", "", "the wasip1 target to load (default: the only one)")
	memory := flag.Uint("memory", 64, "memory cap of each instance, in MiB")
	timeout := flag.Duration("timeout", 2*time.Second, "deadline of each instance")
	instances := flag.Int("instances", 3, "how many instances of the one compiled module to run")
	call := flag.String("call", "", "the exported function to call (default: run the command's main)")
	flag.Parse()
	if err := run(*dist, *target, uint32(*memory), *timeout, *instances, *call, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "plugin-host:", err)
		os.Exit(1)
	}
}

func run(dist, target string, memoryMiB uint32, timeout time.Duration, instances int, call string, args []string) error {
	p, err := load(dist, target)
	if err != nil {
		return err
	}
	ctx := context.Background()
	// The memory cap: 16 wasm pages of 64 KiB make one MiB. Growing past it fails in the guest.
	config := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(memoryMiB * 16).
		WithCloseOnContextDone(true) // the deadline stops even a loop that never calls the host
	r := wazero.NewRuntimeWithConfig(ctx, config)
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)

	compiled, err := r.CompileModule(ctx, p.wasm) // compile once ...
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	_, reactor := compiled.ExportedFunctions()["_initialize"]
	for i := 1; i <= instances; i++ { // ... instantiate many
		out, err := instance(ctx, r, compiled, p, reactor, timeout, call, args)
		if err != nil {
			return fmt.Errorf("%s instance %d: %w", p.name, i, err)
		}
		fmt.Printf("instance %d: %s\n", i, out)
	}
	return nil
}

// load reads the manifest, finds the plugin and checks its bytes before anything else.
func load(dist, target string) (plugin, error) {
	data, err := os.ReadFile(filepath.Join(dist, "manifest.json"))
	if err != nil {
		return plugin{}, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil || m.Schema != 1 {
		return plugin{}, fmt.Errorf("%s/manifest.json is not a wasmship manifest (schema 1)", dist)
	}
	for _, t := range m.Targets {
		if t.Goos != "wasip1" || (target != "" && t.Name != target) {
			continue
		}
		file, ok := t.Files[t.Name+".wasm"]
		if !ok || !filepath.IsLocal(file.Path) {
			return plugin{}, fmt.Errorf("target %q lists no module inside %s", t.Name, dist)
		}
		wasm, err := os.ReadFile(filepath.Join(dist, filepath.FromSlash(file.Path)))
		if err != nil {
			return plugin{}, err
		}
		sum := sha256.Sum256(wasm)
		if got := hex.EncodeToString(sum[:]); int64(len(wasm)) != file.Size || got != file.Sha256 {
			return plugin{}, fmt.Errorf("refusing %s: its bytes do not match the manifest "+
				"(sha256 %s, %d bytes; the manifest says %s, %d bytes)",
				file.Path, got, len(wasm), file.Sha256, file.Size)
		}
		var allow []string
		if t.Interface != nil {
			allow = t.Interface.Allow
		}
		for _, a := range allow {
			if !slices.Contains(grantable, a) {
				return plugin{}, fmt.Errorf("refusing %s: its allow list asks for %q, which this "+
					"host does not grant (it grants %s)", t.Name, a, strings.Join(grantable, ", "))
			}
		}
		return plugin{name: t.Name, wasm: wasm, allow: allow}, nil
	}
	return plugin{}, fmt.Errorf("%s has no wasip1 target %q", dist, target)
}

// instance runs one fresh instance: its own memory, its own deadline, the granted capabilities.
func instance(ctx context.Context, r wazero.Runtime, compiled wazero.CompiledModule, p plugin,
	reactor bool, timeout time.Duration, call string, args []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout bytes.Buffer
	config := wazero.NewModuleConfig().WithName("").WithArgs(p.name).
		WithStdout(io.Discard).WithStderr(io.Discard) // deny by default
	if slices.Contains(p.allow, "stdout") {
		config = config.WithStdout(&stdout)
	}
	if slices.Contains(p.allow, "stderr") {
		config = config.WithStderr(os.Stderr)
	}
	if slices.Contains(p.allow, "clock") {
		config = config.WithSysWalltime().WithSysNanotime().WithSysNanosleep()
	}
	if slices.Contains(p.allow, "random") {
		config = config.WithRandSource(rand.Reader)
	}
	start := "_start"
	if reactor {
		start = "_initialize"
	}
	mod, err := r.InstantiateModule(ctx, compiled, config.WithStartFunctions(start))
	if err != nil {
		return "", explain(err, timeout)
	}
	defer mod.Close(ctx)
	if call == "" {
		return fmt.Sprintf("ran, printed %q", stdout.String()), nil
	}
	fn := mod.ExportedFunction(call)
	if fn == nil || mod.IsClosed() {
		return "", fmt.Errorf("cannot call %s: not exported by a running reactor", call)
	}
	params := make([]uint64, len(args))
	for i, a := range args {
		v, err := strconv.ParseInt(a, 10, 32)
		if err != nil {
			return "", fmt.Errorf("argument %q: %w", a, err)
		}
		params[i] = api.EncodeI32(int32(v))
	}
	results, err := fn.Call(ctx, params...)
	if err != nil {
		return "", explain(err, timeout)
	}
	shown := make([]string, len(results))
	for i, v := range results {
		shown[i] = strconv.Itoa(int(api.DecodeI32(v)))
	}
	return fmt.Sprintf("%s(%s) = %s", call, strings.Join(args, ", "), strings.Join(shown, ", ")), nil
}

func explain(err error, timeout time.Duration) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		if exit.ExitCode() == sys.ExitCodeDeadlineExceeded {
			return fmt.Errorf("stopped at the deadline of %s", timeout)
		}
		return fmt.Errorf("exited with code %d", exit.ExitCode())
	}
	return err
}
