package main

import "fmt"

const build = "v1" // the line the benchmark changes

func main() { fmt.Println("hello from Go WebAssembly", build) }
