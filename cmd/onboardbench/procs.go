package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// freeAddr finds a free loopback port for a child to listen on. Another
// process could take it before the child does; on loopback in a bench run
// that is rare enough, and the child then fails loudly.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// buildBot compiles ./cmd/onboardbot into dir: the bench drives the real
// binary, so each replica is its own process with its own RSS.
func buildBot(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "onboardbot")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/onboardbot")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/onboardbot (run the bench from the module root): %v\n%s", err, b)
	}
	return out, nil
}

// redisServer is a redis-server the bench started for itself.
type redisServer struct {
	cmd *exec.Cmd
	URL string
}

// startRedis runs redis-server on a free port without persistence. The
// error says what to do when redis-server is not installed.
func startRedis(ctx context.Context, dir string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server is not on PATH: install it or set REDIS_URL")
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	rs := &redisServer{cmd: cmd, URL: "redis://" + addr + "/0"}
	go func() { _ = cmd.Wait() }() // reaps it, so stopProcess sees it gone
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return rs, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			rs.Stop()
			return nil, errors.New("redis-server did not come up within 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *redisServer) Stop() { stopProcess(r.cmd) }

// botProc is one onboardbot child in HTTP mode.
type botProc struct {
	name string
	cmd  *exec.Cmd
	URL  string
	log  string
}

// startBot runs the binary with env (on top of a clean environment: the
// bench's own Slack or Webex variables must not leak into the children)
// and waits until /readyz answers 200.
func startBot(ctx context.Context, bin, logDir, name string, env map[string]string, args ...string) (*botProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(logDir, "bot-"+name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "HTTP_ADDR=" + addr}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start bot %s: %w", name, err)
	}
	b := &botProc{name: name, cmd: cmd, URL: "http://" + addr, log: logPath}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			return nil, fmt.Errorf("bot %s exited at start; see %s", name, logPath)
		default:
		}
		if resp, err := http.Get(b.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return b, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			b.Stop()
			return nil, fmt.Errorf("bot %s not ready within 15 s; see %s", name, logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the bot: SIGTERM, then SIGKILL after 3 s. Background work left
// over from a load run (prechecks, Slack posts) is not waited for.
func (b *botProc) Stop() { stopProcess(b.cmd) }

func stopProcess(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		// Signal 0 fails once the process is gone (reaped by cmd.Wait).
		if cmd.Process.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
}

// memory reads VmRSS and VmHWM (peak RSS) of pid from /proc, in bytes.
func memory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", k, err)
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm, sc.Err()
}

// rssSampler records the highest VmRSS of pid until stopped.
func rssSampler(pid int, every time.Duration) (stop func() int64) {
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var top int64
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if rss, _, err := memory(pid); err == nil && rss > top {
				top = rss
			}
			select {
			case <-done:
				peak <- top
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(done); return <-peak }
}
