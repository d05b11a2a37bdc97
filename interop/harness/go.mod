module github.com/canary-gate/canary/interop/harness

go 1.26.0
