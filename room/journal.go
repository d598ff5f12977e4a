package room

// Journal makes joins, leaves and track changes durable: the session
// log. Its methods are called with the room locked, so they must only
// queue the record and return; the room tells nobody of the event, and no
// Observer learns of it, until the returned Commit is done. A journal
// commits in call order.
type Journal interface {
	RecordJoin(JoinEvent) Commit
	RecordLeave(LeaveEvent) Commit
	// RecordTrack is called for tracks published and unpublished while
	// their participant stays; a leave ends the leaver's tracks without
	// one (readers of the journal close them).
	RecordTrack(TrackEvent) Commit
}

// Commit is one journal record on its way to durable storage.
type Commit interface {
	// Done is closed when the record is durable or has failed.
	Done() <-chan struct{}
	// Err, once Done is closed, is nil when the record is durable.
	Err() error
}

type nopJournal struct{}

func (nopJournal) RecordJoin(JoinEvent) Commit   { return nil }
func (nopJournal) RecordLeave(LeaveEvent) Commit { return nil }
func (nopJournal) RecordTrack(TrackEvent) Commit { return nil }
