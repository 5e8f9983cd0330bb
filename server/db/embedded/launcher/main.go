// Command lifeboat-ferretdb runs FerretDB (SQLite backend) embedded in a tiny process that
// Lifeboat's server owns. It prints one line "LISTENING <mongodb-uri>" once it accepts
// connections, and exits when its standard input closes, so it never outlives its parent,
// not even when the parent is killed with SIGKILL.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on (port 0 picks a free port)")
	dataDir := flag.String("data", "", "directory for the SQLite databases (required)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "lifeboat-ferretdb: -data is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil || os.MkdirAll(abs, 0o700) != nil {
		fmt.Fprintf(os.Stderr, "lifeboat-ferretdb: cannot use data directory %q\n", *dataDir)
		os.Exit(2)
	}

	// The heap FerretDB keeps live is small and short-lived garbage per request is large (documents
	// converted BSON -> Go -> JSON): collecting at 4x the live heap instead of 2x cut the database's
	// CPU per received message by about a quarter (bench:smtp). GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		level = slog.LevelWarn
	}
	logger := slog.New(&lazyHandler{inner: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})})

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "lifeboat-ferretdb: %s\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The parent holds our stdin open; EOF means it is gone, however it ended.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()

	done := make(chan struct{})
	go func() {
		_ = f.Run(ctx)
		close(done)
	}()

	// MongoDBURI waits until the listener is bound, so this line also means "ready".
	fmt.Printf("LISTENING %s\n", f.MongoDBURI())

	<-done
}

// lazyHandler keeps attributes added with Logger.With unformatted until a record is actually
// written. FerretDB's SQL layer calls With(query arguments) on every statement, debug level or not,
// and slog's TextHandler formats them on the spot: for a 10 KB document that quoting cost about 15%
// of the database's CPU while receiving mail.
type lazyHandler struct {
	inner slog.Handler
	attrs []slog.Attr
}

func (h *lazyHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *lazyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	all := make([]slog.Attr, 0, len(h.attrs)+len(attrs))
	return &lazyHandler{inner: h.inner, attrs: append(append(all, h.attrs...), attrs...)}
}

func (h *lazyHandler) WithGroup(name string) slog.Handler {
	return &lazyHandler{inner: h.materialized().WithGroup(name)}
}

func (h *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.materialized().Handle(ctx, r)
}

func (h *lazyHandler) materialized() slog.Handler {
	if len(h.attrs) == 0 {
		return h.inner
	}
	return h.inner.WithAttrs(h.attrs)
}
