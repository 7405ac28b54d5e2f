from wasmship.cli import main

main()
