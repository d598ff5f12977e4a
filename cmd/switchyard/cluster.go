package main

import "strings"

// isClusterFlag spots --cluster[=URL] among the sessions flags: the
// summary then comes from the cluster log in NATS, not from a file.
func isClusterFlag(arg string) bool {
	return arg == "--cluster" || arg == "-cluster" || strings.HasPrefix(arg, "--cluster=") || strings.HasPrefix(arg, "-cluster=")
}
