"""One module per pipeline step, each with one public function over a BuildContext."""
