module orderly.dev/go/orderly/bench

go 1.19

replace orderly.dev/go/orderly => ../

require (
	github.com/looplab/fsm v1.0.3
	github.com/qmuntal/stateless v1.7.2
	orderly.dev/go/orderly v0.0.0
)
