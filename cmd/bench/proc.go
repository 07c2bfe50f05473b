package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat. It
// is 100 on every Linux architecture Go supports, and reading it properly
// (sysconf) would need cgo.
const clockTicks = 100

// process is a child program that the benchmark starts, measures and stops:
// the Atrium server, the baseline server and PgBouncer. It runs in its own
// process group, so Ctrl-C in the terminal reaches only the benchmark, which
// then stops its children in order; and it is killed if the benchmark dies.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{} // closed when the process has exited
	err     error         // exit status, valid once done is closed
	// stopSignal asks the process to stop; SIGTERM unless set.
	stopSignal syscall.Signal
}

// startProcess starts path with args and env (nil: our own environment),
// writing its output to logPath. cred, when set, runs it as another user.
func startProcess(name, logPath string, env []string, cred *syscall.Credential, path string, args ...string) (*process, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: start %s: %w", name, path, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, logFile: f, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id.
func (p *process) Pid() int { return p.cmd.Process.Pid }

// Alive reports whether the process has not exited.
func (p *process) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop sends the stop signal and waits up to grace for the process to exit,
// then kills it. Stopping a process that has already exited is not an
// error; one that had crashed is reported.
func (p *process) Stop(grace time.Duration) error {
	if !p.Alive() {
		return p.exitError()
	}
	_ = p.cmd.Process.Signal(p.signal())
	select {
	case <-p.done:
		return p.exitError()
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s of %s and was killed", p.name, grace, p.signal())
	}
}

func (p *process) signal() syscall.Signal {
	if p.stopSignal == 0 {
		return syscall.SIGTERM
	}
	return p.stopSignal
}

// exitError describes how an exited process ended; dying of the stop signal
// is a clean end.
func (p *process) exitError() error {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == p.signal() {
			return nil
		}
	}
	if p.err != nil {
		return fmt.Errorf("%s exited: %w", p.name, p.err)
	}
	return nil
}

// logTail returns the last n lines the process wrote.
func (p *process) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// cpuSample is a process's CPU time consumed so far, and when it was read.
type cpuSample struct {
	ticks uint64
	at    time.Time
}

// readCPU returns utime+stime of pid (fields 14 and 15 of /proc/<pid>/stat).
func readCPU(pid int) (cpuSample, error) {
	f, err := statFields(pid)
	if err != nil {
		return cpuSample{}, err
	}
	return cpuSample{ticks: sum(f[11:13]), at: time.Now()}, nil
}

// coresUsed is the average number of cores busy between two samples.
func coresUsed(before, after cpuSample) float64 {
	wall := after.at.Sub(before.at).Seconds()
	if wall <= 0 || after.ticks < before.ticks {
		return 0
	}
	return float64(after.ticks-before.ticks) / clockTicks / wall
}

// resetPeakMemory resets the peak resident set size (VmHWM) of pid to its
// current size, so that the next reading is the peak of what follows.
func resetPeakMemory(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

// peakMemory returns the peak resident set size (VmHWM) of pid in bytes.
func peakMemory(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// treeCPU returns the CPU time of root and its children so far: PostgreSQL
// runs one backend process per connection under the postmaster. A backend
// that exits moves its time into the postmaster's cutime and cstime, which
// are counted too, so the sum only grows.
func treeCPU(root int) (cpuSample, error) {
	at := time.Now()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return cpuSample{}, err
	}
	var total uint64
	found := false
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := statFields(pid)
		if err != nil {
			continue // exited meanwhile
		}
		switch {
		case pid == root:
			found = true
			total += sum(f[11:15]) // utime, stime, cutime, cstime
		case f[1] == strconv.Itoa(root):
			total += sum(f[11:13])
		}
	}
	if !found {
		return cpuSample{}, fmt.Errorf("process %d is gone", root)
	}
	return cpuSample{ticks: total, at: at}, nil
}

// statFields returns the fields of /proc/<pid>/stat after the command name:
// state is f[0], ppid f[1], utime f[11], stime f[12], cutime f[13] and
// cstime f[14].
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	// The command name is in parentheses and may contain spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return nil, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	return f, nil
}

func sum(fields []string) uint64 {
	var n uint64
	for _, s := range fields {
		v, _ := strconv.ParseUint(s, 10, 64)
		n += v
	}
	return n
}
