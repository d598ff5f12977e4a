package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// browserProc is one process of a browser, from /proc/PID/stat.
type browserProc struct {
	pid     int
	state   string // R, S, Z (zombie), X (dead), …
	ticks   int64  // user + system CPU time, in clock ticks
	cmdline string // NUL-separated, as the kernel gives it
}

// procs lists the processes that belong to this browser: its process
// group, and whatever names its unique profile directory on the command
// line (Chromium's zygote children leave the group).
func (b *browser) procs() []browserProc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var mine []browserProc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp … utime(14) stime(15); comm may hold spaces.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			continue
		}
		pgrp, _ := strconv.Atoi(f[2])
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if pgrp != b.pgid && !strings.Contains(string(cmdline), b.dataDir) {
			continue
		}
		user, _ := strconv.ParseInt(f[11], 10, 64)
		system, _ := strconv.ParseInt(f[12], 10, 64)
		mine = append(mine, browserProc{pid: pid, state: f[0], ticks: user + system, cmdline: string(cmdline)})
	}
	return mine
}
