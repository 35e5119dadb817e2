module orderly.dev/go/orderly

go 1.19
