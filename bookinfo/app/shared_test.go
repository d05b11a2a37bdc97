package app

import "flag"

// update rewrites golden files instead of comparing against them
// (go test ./bookinfo/app -update).
var update = flag.Bool("update", false, "rewrite golden files")
