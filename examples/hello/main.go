// hello is the smallest browser program wasmship ships: it prints a line and
// changes the page, so a test can see it ran in Node and in a browser.
package main

import (
	"fmt"
	"syscall/js"
)

func main() {
	fmt.Println("hello from Go WebAssembly")
	doc := js.Global().Get("document")
	if doc.IsUndefined() {
		return // running under Node: there is no page to change
	}
	p := doc.Call("createElement", "p")
	p.Set("id", "greeting")
	p.Set("textContent", "Hello from Go WebAssembly!")
	doc.Get("body").Call("appendChild", p)
}
