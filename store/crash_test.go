package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/finding"
)

// crashEnv names the database the helper process writes to.
const crashEnv = "VIGIL_STORE_CRASH_DB"

// crashState is the checkpoint the helper commits with every batch: how many
// findings and occurrences it has committed so far.
type crashState struct {
	Findings    int64 `json:"findings"`
	Occurrences int64 `json:"occurrences"`
}

// TestHelperProcess is the child of TestCrashSafety: it commits batches in a
// loop until it is killed. It does nothing in a normal test run.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process for TestCrashSafety")
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var st crashState
	if b, ok, err := s.State(ctx, "crash"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	} else if ok {
		if err := json.Unmarshal(b, &st); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	deadline := time.Now().Add(time.Minute) // never outlive a broken parent
	for time.Now().Before(deadline) {
		// 100 new findings plus 20 new occurrences of stored ones: a commit
		// takes long enough that most kills land inside one.
		var fs []finding.Finding
		for i := range 100 {
			fs = append(fs, mkFinding("111111111111", inst(int(st.Findings)+i), 5, t0))
		}
		for i := range min(20, st.Findings) {
			fs = append(fs, mkFinding("111111111111", inst(int((st.Findings*7+i*13)%st.Findings)), 8, t0.Add(time.Minute)))
		}
		next := crashState{Findings: st.Findings + 100, Occurrences: st.Occurrences + int64(len(fs))}
		b, _ := json.Marshal(next)
		if _, err := s.Commit(ctx, fs, map[string][]byte{"crash": b}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		st = next
		fmt.Printf("committed %d\n", st.Findings)
	}
	os.Exit(3)
}

// TestCrashSafety kills a process that commits findings and checkpoint state
// in a loop with SIGKILL, several times, and checks after each kill that the
// database opens, passes integrity_check, keeps every commit the child
// reported, and that state and findings agree.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "findings.db")
	var lastReported int64
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it commit a varying number of batches, then kill it without
		// warning, most likely in the middle of a transaction.
		sc := bufio.NewScanner(out)
		for seen := 0; seen < 2+3*round && sc.Scan(); {
			var n int64
			if _, err := fmt.Sscanf(sc.Text(), "committed %d", &n); err == nil {
				lastReported, seen = n, seen+1
			}
		}
		time.Sleep(time.Duration(round) * 700 * time.Microsecond) // vary where in a commit the kill lands
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: child ended with %v, want killed", round, err)
		}

		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("round %d: reopening after SIGKILL: %v", round, err)
		}
		if err := s.IntegrityCheck(ctx); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var st crashState
		b, ok, err := s.State(ctx, "crash")
		if err != nil || !ok {
			t.Fatalf("round %d: state missing: %v", round, err)
		}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		var rows, occurrences int64
		if err := s.r.QueryRow("SELECT count(*), coalesce(sum(count), 0) FROM findings").Scan(&rows, &occurrences); err != nil {
			t.Fatal(err)
		}
		if st.Findings < lastReported {
			t.Errorf("round %d: state says %d findings, but the child reported %d committed", round, st.Findings, lastReported)
		}
		if rows != st.Findings || occurrences != st.Occurrences {
			t.Errorf("round %d: table has %d findings / %d occurrences, state says %d / %d",
				round, rows, occurrences, st.Findings, st.Occurrences)
		}
		checkColumns(t, s)
		// Equal: the kill lost the commit in flight; greater: it landed
		// between a commit and its report.
		t.Logf("round %d: %d findings, %d occurrences; child reported %d", round, rows, occurrences, lastReported)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
