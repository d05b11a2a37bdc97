package main

// raceEnabled is set when the tests run with -race, so the binary they start
// is built with the race detector too.
var raceEnabled bool
