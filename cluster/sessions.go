package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard-sfu/switchyard/sessionlog"
)

// ReadLog returns every record of the cluster session log, in stream
// order.
func ReadLog(ctx context.Context, js jetstream.JetStream) ([]sessionlog.Record, error) {
	stream, err := js.Stream(ctx, StreamName)
	if err != nil {
		return nil, fmt.Errorf("cluster log: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster log: %w", err)
	}
	if info.State.Msgs == 0 {
		return nil, nil
	}
	last := info.State.LastSeq
	// An ephemeral consumer deleted when done: readers that poll must not
	// pile up consumers waiting for their inactivity timeout.
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		AckPolicy: jetstream.AckNonePolicy, DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster log: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stream.DeleteConsumer(dctx, cons.CachedInfo().Name)
	}()
	var out []sessionlog.Record
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, fmt.Errorf("cluster log: %w", err)
		}
		for msg := range batch.Messages() {
			var r sessionlog.Record
			if json.Unmarshal(msg.Data(), &r) == nil {
				out = append(out, r)
			}
			md, err := msg.Metadata()
			if err == nil && md.Sequence.Stream >= last {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("cluster log: %w", err)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// SummarizeCluster reads the cluster log at natsURL and summarizes it as
// the single-node session log is summarized.
func SummarizeCluster(ctx context.Context, natsURL string, opt sessionlog.SummaryOptions) (sessionlog.Summary, error) {
	nc, err := nats.Connect(natsURL, nats.Timeout(5*time.Second))
	if err != nil {
		return sessionlog.Summary{}, fmt.Errorf("connect to %s: %w", natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return sessionlog.Summary{}, err
	}
	records, err := ReadLog(ctx, js)
	if err != nil {
		return sessionlog.Summary{}, err
	}
	return sessionlog.Summarize(records, opt), nil
}

// RunSessionsCLI is "switchyard sessions --cluster NATS_URL": the
// cluster-wide summary (current and peak concurrency, joins, leaves by
// reason, durations), printed as JSON. args exclude the subcommand.
func RunSessionsCLI(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("switchyard sessions --cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("cluster", "", "NATS `url` of the cluster whose log to read")
	room := fs.String("room", "", "only this room")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *url == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: switchyard sessions --cluster nats://host:4222 [--room NAME]")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	s, err := SummarizeCluster(ctx, *url, sessionlog.SummaryOptions{Room: *room})
	if err != nil {
		fmt.Fprintf(stderr, "switchyard sessions: %v\n", err)
		return 1
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}
