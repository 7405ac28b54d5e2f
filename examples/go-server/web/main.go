//go:build js && wasm

// The front end: a Go WebAssembly program that greets and asks the server's API for the time.
package main

import (
	"syscall/js"
)

const greeting = "Hello from Go WebAssembly, served by Go!"

func main() {
	doc := js.Global().Get("document")
	show := func(id, text string) {
		p := doc.Call("createElement", "p")
		p.Set("id", id)
		p.Set("textContent", text)
		doc.Get("body").Call("appendChild", p)
	}
	show("greeting", greeting)
	done := make(chan struct{})
	var onJSON, onResponse, onError js.Func
	onJSON = js.FuncOf(func(this js.Value, args []js.Value) any {
		show("time", "The server says it is "+args[0].Get("time").String())
		close(done)
		return nil
	})
	onResponse = js.FuncOf(func(this js.Value, args []js.Value) any {
		return args[0].Call("json").Call("then", onJSON)
	})
	onError = js.FuncOf(func(this js.Value, args []js.Value) any {
		show("time", "The API did not answer: "+args[0].Call("toString").String())
		close(done)
		return nil
	})
	// Relative: the page works wherever the server mounts it.
	js.Global().Call("fetch", "api/time").Call("then", onResponse).Call("catch", onError)
	<-done
}
