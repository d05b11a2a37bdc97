package results

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// FlushInterval bounds how long a written record may sit in the buffer, so a
// killed run loses at most this much of what it measured.
const FlushInterval = time.Second

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("results writer closed")

// Writer streams records as JSON lines. It is safe for concurrent use.
// Writes are buffered and flushed every FlushInterval and on Close.
//
// The first error from the underlying writer is sticky: every later Write,
// Flush and Close returns it, so a full or unwritable disk stops the run
// instead of silently dropping measurements.
type Writer struct {
	mu     sync.Mutex
	bw     *bufio.Writer
	closer io.Closer // nil when the caller owns the underlying writer
	err    error
	n      uint64
	line   []byte
	done   chan struct{}
	wg     sync.WaitGroup
}

// NewWriter returns a Writer on w and starts its flush ticker; Close stops it.
// Close does not close w.
func NewWriter(w io.Writer) *Writer {
	rw := &Writer{
		bw:   bufio.NewWriterSize(w, 64<<10),
		line: make([]byte, 0, 256),
		done: make(chan struct{}),
	}
	rw.wg.Add(1)
	go rw.flushLoop()
	return rw
}

// Create opens the file at path for appending (see OpenAppend) and returns
// a Writer on it; Close closes the file. It never truncates: two load pods
// writing one file on a shared volume must not erase each other's results.
func Create(path string) (*Writer, error) { return OpenAppend(path) }

func (w *Writer) flushLoop() {
	defer w.wg.Done()
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
			_ = w.Flush() // the error is sticky; the next Write reports it
		}
	}
}

// Write appends one record. It returns the first error the Writer has met.
func (w *Writer) Write(r *Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.line = append(Append(w.line[:0], r), '\n')
	if w.bw.Available() < len(w.line) {
		// Flush whole lines only: with O_APPEND each write lands whole at
		// the end, so other writers' lines never cut into ours.
		if err := w.flushLocked(); err != nil {
			return err
		}
	}
	if _, err := w.bw.Write(w.line); err != nil {
		w.err = fmt.Errorf("write results: %w", err)
		return w.err
	}
	w.n++
	return nil
}

// Flush writes buffered records to the underlying writer.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("write results: %w", err)
	}
	return w.err
}

// Err returns the first error the Writer has met, without writing anything.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Count returns the number of records written so far.
func (w *Writer) Count() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Close flushes, stops the ticker and closes the file if Create opened it.
// It returns the first error met. Calling Close twice returns ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	select {
	case <-w.done:
		w.mu.Unlock()
		return ErrClosed
	default:
	}
	close(w.done)
	err := w.flushLocked()
	if w.closer != nil {
		if cerr := w.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close results: %w", cerr)
		}
	}
	if w.err == nil {
		w.err = ErrClosed
	}
	w.mu.Unlock()
	w.wg.Wait()
	return err
}

// OpenAppend opens path for appending, creating it if needed, so that a
// soak restarted after a crash adds to what the first run measured. A torn
// last line left by the crash is cut off first: appended after it, it
// would become a bad line in the middle of the file, which Scanner skips.
func OpenAppend(path string) (*Writer, error) {
	// O_APPEND: every write goes to the end of the file as it is then, so
	// several processes appending whole lines interleave them whole.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open results file: %w", err)
	}
	if err := cutTornLine(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("open results file %s: %w", path, err)
	}
	w := NewWriter(f)
	w.closer = f
	return w, nil
}

// cutTornLine truncates f after its last newline and leaves the offset at
// the end. A file without any newline is emptied.
func cutTornLine(f *os.File) error {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil || end == 0 {
		return err
	}
	buf := make([]byte, min(end, MaxLineBytes+1))
	if _, err := f.ReadAt(buf, end-int64(len(buf))); err != nil {
		return err
	}
	keep := end - int64(len(buf)) + int64(bytes.LastIndexByte(buf, '\n')+1)
	if keep == end {
		return nil
	}
	if err := f.Truncate(keep); err != nil {
		return err
	}
	_, err = f.Seek(keep, io.SeekStart)
	return err
}
