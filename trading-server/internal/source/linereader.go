package source

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lineReader reads lines of at most maxBytes bytes, keeping no more than
// that in memory however long a line is.
type lineReader struct {
	br       *bufio.Reader
	maxBytes int
	buf      []byte
}

func newLineReader(r io.Reader, maxBytes int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64*1024), maxBytes: maxBytes}
}

// next returns the next line without its "\n" or "\r\n". For a line longer
// than maxBytes it returns tooLong true and no content, after skipping the
// rest of the line. At the end of the input it returns io.EOF, and a last
// line without a final newline is returned before that. The returned slice
// is valid until the next call.
func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	l.buf = l.buf[:0]
	sawData := false
	for {
		chunk, err := l.br.ReadSlice('\n')
		if len(chunk) > 0 {
			sawData = true
		}
		if !tooLong {
			if len(l.buf)+len(chunk) > l.maxBytes+2 { // +2 leaves room for "\r\n"
				tooLong = true
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			return l.finish(tooLong)
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if !sawData {
				return nil, false, io.EOF
			}
			return l.finish(tooLong)
		default:
			return nil, false, err
		}
	}
}

func (l *lineReader) finish(tooLong bool) ([]byte, bool, error) {
	if tooLong {
		return nil, true, nil
	}
	line := bytes.TrimSuffix(l.buf, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > l.maxBytes {
		return nil, true, nil
	}
	return line, false, nil
}
