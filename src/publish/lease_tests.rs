//! The lease's state machine against an in-memory object store, which
//! honours `PutMode::Create` and `PutMode::Update` as S3 does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use object_store::memory::InMemory;

const D: Duration = Duration::from_secs(30);

fn lease(store: &Arc<InMemory>, holder: &str) -> Lease {
    let store: Arc<dyn ObjectStore> = store.clone();
    Lease::new(store, "site/", holder.into(), D, Vec::new()).unwrap()
}

fn wall(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000 + secs, 0).unwrap()
}

async fn record(store: &InMemory) -> Record {
    let got = store.get(&Key::from("site/.wirefeed-lease")).await.unwrap();
    serde_json::from_slice(&got.bytes().await.unwrap()).unwrap()
}

/// The tests' clock starts an hour ahead of the real one: a step never
/// counts a new ETag from before the real moment it was read.
fn base() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

fn held(s: &Status) -> bool {
    matches!(s, Status::Held { .. })
}

#[tokio::test]
async fn one_holds_the_other_waits_and_takes_over_only_once_renewals_stop() {
    let store = Arc::new(InMemory::new());
    let t0 = base();
    let at = |s: u64| t0 + Duration::from_secs(s);
    let mut a = lease(&store, "a");
    let mut b = lease(&store, "b");
    let got = a.step(at(0), wall(0)).await.unwrap();
    assert!(
        matches!(
            got,
            Status::Held {
                epoch: 1,
                acquired: Some(Acquired::New),
                ..
            }
        ),
        "{got:?}"
    );
    let r = record(&store).await;
    assert_eq!(
        (r.holder.as_str(), r.epoch, r.duration_ms),
        ("a", 1, 30_000)
    );
    assert_eq!(r.expires, wall(30));

    // B sees A's lease and waits a whole duration from when it saw it.
    match b.step(at(1), wall(1)).await.unwrap() {
        Status::Standby {
            record,
            takeover_in,
            lost,
        } => {
            assert_eq!(record.unwrap().holder, "a");
            assert_eq!(takeover_in, D);
            assert_eq!(lost, None);
        }
        other => panic!("{other:?}"),
    }
    // A renews at a third; B's clock starts again from the new ETag.
    assert_eq!(a.next_step(at(0)), at(10));
    assert!(held(&a.step(at(5), wall(5)).await.unwrap()));
    assert_eq!(record(&store).await.renewed, wall(0), "not due yet");
    assert!(held(&a.step(at(10), wall(10)).await.unwrap()));
    assert_eq!(record(&store).await.renewed, wall(10));
    assert_eq!(record(&store).await.beat, 1);
    match b.step(at(29), wall(29)).await.unwrap() {
        Status::Standby { takeover_in, .. } => assert_eq!(takeover_in, D),
        other => panic!("{other:?}"),
    }
    // A dies after that renewal. Not a moment before a duration since B
    // first saw it...
    match b.step(at(58), wall(58)).await.unwrap() {
        Status::Standby { takeover_in, .. } => assert_eq!(takeover_in, Duration::from_secs(1)),
        other => panic!("{other:?}"),
    }
    // ...then B takes it over, with the next epoch.
    let got = b.step(at(59), wall(59)).await.unwrap();
    match got {
        Status::Held {
            epoch,
            until,
            acquired,
            ..
        } => {
            assert_eq!(epoch, 2);
            assert_eq!(acquired, Some(Acquired::Expired("a".into())));
            assert_eq!(until, at(59) + D - margin(D));
        }
        other => panic!("{other:?}"),
    }
    let r = record(&store).await;
    assert_eq!((r.holder.as_str(), r.epoch, r.acquired), ("b", 2, wall(59)));

    // A wakes up (it was only stopped): its renewal is refused, it knows
    // it lost the lease and to whom.
    match a.step(at(60), wall(60)).await.unwrap() {
        Status::Standby { lost, record, .. } => {
            assert_eq!(lost.as_deref(), Some("taken over by b"));
            assert_eq!(record.unwrap().holder, "b");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(record(&store).await.holder, "b", "A wrote nothing");
}

#[tokio::test]
async fn the_holder_must_stop_before_anyone_can_take_over() {
    let store = Arc::new(InMemory::new());
    let t0 = base();
    let mut a = lease(&store, "a");
    let Status::Held { until, .. } = a.step(t0, wall(0)).await.unwrap() else {
        panic!("not held")
    };
    // The earliest a watcher can take over: a duration after the write
    // was sent (it cannot have seen it sooner).
    assert!(until + margin(D) <= t0 + D);
    assert!(margin(D) >= Duration::from_secs(3));
}

#[tokio::test]
async fn two_takers_of_an_expired_lease_cannot_both_win() {
    for round in 0..20 {
        let store = Arc::new(InMemory::new());
        let t0 = base();
        let mut a = lease(&store, "a");
        a.step(t0, wall(0)).await.unwrap();
        let mut b = lease(&store, "b");
        let mut c = lease(&store, "c");
        assert!(!held(&b.step(t0, wall(0)).await.unwrap()));
        assert!(!held(&c.step(t0, wall(0)).await.unwrap()));
        let later = t0 + D;
        let (sb, sc) = tokio::join!(b.step(later, wall(30)), c.step(later, wall(30)));
        let (sb, sc) = (sb.unwrap(), sc.unwrap());
        assert!(held(&sb) != held(&sc), "round {round}: {sb:?} / {sc:?}");
        let winner = if held(&sb) { "b" } else { "c" };
        assert_eq!(record(&store).await.holder, winner);
        // The loser keeps watching the winner's lease.
        let loser = if held(&sb) { &mut c } else { &mut b };
        match loser.step(later, wall(30)).await.unwrap() {
            Status::Standby { record, .. } => assert_eq!(record.unwrap().holder, winner),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn two_first_takers_cannot_both_win() {
    for _ in 0..20 {
        let store = Arc::new(InMemory::new());
        let t0 = base();
        let (mut a, mut b) = (lease(&store, "a"), lease(&store, "b"));
        let (sa, sb) = tokio::join!(a.step(t0, wall(0)), b.step(t0, wall(0)));
        let (sa, sb) = (sa.unwrap(), sb.unwrap());
        assert!(held(&sa) != held(&sb), "{sa:?} / {sb:?}");
    }
}

#[tokio::test]
async fn a_released_lease_and_one_of_a_gone_process_of_this_folder_are_taken_at_once() {
    let store = Arc::new(InMemory::new());
    let t0 = base();
    let mut a = lease(&store, "a");
    a.step(t0, wall(0)).await.unwrap();
    let mut b = lease(&store, "b");
    assert!(!held(&b.step(t0, wall(0)).await.unwrap()));
    assert!(a.release(wall(1)).await.unwrap());
    let r = record(&store).await;
    assert!(r.released && r.expires == wall(1) && r.holder == "a");
    assert!(
        !a.release(wall(1)).await.unwrap(),
        "nothing left to give up"
    );
    let got = b.step(t0 + Duration::from_secs(1), wall(1)).await.unwrap();
    assert!(
        matches!(got, Status::Held { epoch: 2, acquired: Some(Acquired::Released(ref h)), .. } if h == "a"),
        "{got:?}"
    );

    // B is killed; the next process of B's folder knows B's id.
    let dyn_store: Arc<dyn ObjectStore> = store.clone();
    let mut b2 = Lease::new(dyn_store, "site/", "b2".into(), D, vec!["b".into()]).unwrap();
    let got = b2.step(t0 + Duration::from_secs(2), wall(2)).await.unwrap();
    assert!(
        matches!(got, Status::Held { epoch: 3, acquired: Some(Acquired::OursBefore(ref h)), .. } if h == "b"),
        "{got:?}"
    );
    // A release by a process that lost the lease changes nothing.
    assert!(!b.release(wall(3)).await.unwrap());
    assert_eq!(record(&store).await.holder, "b2");
}

#[tokio::test]
async fn something_that_is_not_a_lease_is_waited_out_like_one() {
    let store = Arc::new(InMemory::new());
    let key = Key::from("site/.wirefeed-lease");
    store
        .put(&key, PutPayload::from_static(b"junk"))
        .await
        .unwrap();
    let t0 = base();
    let mut a = lease(&store, "a");
    match a.step(t0, wall(0)).await.unwrap() {
        Status::Standby {
            record: None,
            takeover_in,
            ..
        } => assert_eq!(takeover_in, D),
        other => panic!("{other:?}"),
    }
    let got = a.step(t0 + D, wall(30)).await.unwrap();
    assert!(matches!(got, Status::Held { epoch: 1, .. }), "{got:?}");
}

/// An in-memory store where another taker writes the lease between this
/// one's read and its write: every lease read is followed, before it is
/// answered, by a conditional write of `rival` on the ETag just read.
#[derive(Debug)]
struct Rival {
    inner: InMemory,
    rival: std::sync::Mutex<Option<Record>>,
    /// Every write fails (the store cannot be reached).
    down: std::sync::atomic::AtomicBool,
}

impl Rival {
    fn new() -> Arc<Rival> {
        Arc::new(Rival {
            inner: InMemory::new(),
            rival: std::sync::Mutex::new(None),
            down: std::sync::atomic::AtomicBool::new(false),
        })
    }
}

impl std::fmt::Display for Rival {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rival")
    }
}

#[async_trait::async_trait]
impl ObjectStore for Rival {
    async fn put_opts(
        &self,
        location: &Key,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<object_store::PutResult> {
        if self.down.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::Generic {
                store: "Rival",
                source: "connection refused".into(),
            });
        }
        self.inner.put_opts(location, payload, opts).await
    }
    async fn put_multipart_opts(
        &self,
        location: &Key,
        opts: object_store::PutMultipartOptions,
    ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(
        &self,
        location: &Key,
        options: object_store::GetOptions,
    ) -> object_store::Result<object_store::GetResult> {
        let got = self.inner.get_opts(location, options.clone()).await;
        let rival = self.rival.lock().unwrap().take();
        let (Ok(read), Some(rival)) = (&got, rival) else {
            return got;
        };
        let opts = PutOptions {
            mode: PutMode::Update(version(read.meta.e_tag.as_deref().unwrap())),
            ..PutOptions::default()
        };
        let json = serde_json::to_vec(&rival).unwrap();
        self.inner
            .put_opts(location, json.into(), opts)
            .await
            .unwrap();
        got
    }
    fn delete_stream(
        &self,
        locations: futures_util::stream::BoxStream<'static, object_store::Result<Key>>,
    ) -> futures_util::stream::BoxStream<'static, object_store::Result<Key>> {
        self.inner.delete_stream(locations)
    }
    fn list(
        &self,
        prefix: Option<&Key>,
    ) -> futures_util::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>>
    {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(
        &self,
        prefix: Option<&Key>,
    ) -> object_store::Result<object_store::ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(
        &self,
        from: &Key,
        to: &Key,
        options: object_store::CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

fn rival_record(holder: &str, epoch: u64) -> Record {
    Record {
        holder: holder.into(),
        epoch,
        acquired: wall(30),
        renewed: wall(30),
        expires: wall(60),
        duration_ms: 30_000,
        released: false,
        beat: 0,
    }
}

#[tokio::test]
async fn a_taker_that_loses_the_race_between_its_read_and_its_write_does_not_hold() {
    let store = Rival::new();
    let dyn_store: Arc<dyn ObjectStore> = store.clone();
    let t0 = base();
    let mut a = Lease::new(dyn_store.clone(), "site/", "a".into(), D, Vec::new()).unwrap();
    a.step(t0, wall(0)).await.unwrap();
    let mut b = Lease::new(dyn_store.clone(), "site/", "b".into(), D, Vec::new()).unwrap();
    assert!(!held(&b.step(t0, wall(0)).await.unwrap()));

    // A released lease: C writes it between B's read and B's write.
    assert!(a.release(wall(1)).await.unwrap());
    *store.rival.lock().unwrap() = Some(rival_record("c", 2));
    match b.step(t0 + Duration::from_secs(1), wall(1)).await.unwrap() {
        Status::Standby { .. } => {}
        other => panic!("B holds a lease C took: {other:?}"),
    }
    let r = record(&store.inner).await;
    assert_eq!(r.holder, "c");

    // An expired one: the same.
    assert!(!held(
        &b.step(t0 + Duration::from_secs(2), wall(2)).await.unwrap()
    ));
    *store.rival.lock().unwrap() = Some(rival_record("d", 3));
    let late = t0 + Duration::from_secs(2) + D;
    assert!(!held(&b.step(late, wall(40)).await.unwrap()));
    assert_eq!(record(&store.inner).await.holder, "d");
}

#[tokio::test]
async fn a_holder_that_cannot_renew_stops_before_a_watcher_may_take_over() {
    let store = Rival::new();
    let dyn_store: Arc<dyn ObjectStore> = store.clone();
    let t0 = base();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let mut a = Lease::new(dyn_store.clone(), "site/", "a".into(), D, Vec::new()).unwrap();
    let mut b = Lease::new(dyn_store, "site/", "b".into(), D, Vec::new()).unwrap();
    let Status::Held { until, .. } = a.step(at(0), wall(0)).await.unwrap() else {
        panic!("not held")
    };
    assert!(!held(&b.step(at(0), wall(0)).await.unwrap()));
    store.down.store(true, std::sync::atomic::Ordering::Relaxed);

    // Renewals fail: still held, until the same deadline as before.
    match a.step(at(10_000), wall(10)).await.unwrap() {
        Status::Held {
            until: still,
            renew_error: Some(e),
            ..
        } => {
            assert_eq!(still, until);
            assert!(e.contains("connection refused"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // At the deadline: lost, and said why.
    let deadline = t0 + D - margin(D);
    match a.step(deadline, wall(27)).await.unwrap() {
        Status::Standby {
            lost: Some(why), ..
        } => {
            assert!(why.starts_with("not renewed for 27s"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    // B may not take over before A stopped: not until a whole duration.
    store
        .down
        .store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(deadline < at(30_000));
    assert!(!held(&b.step(at(29_999), wall(29)).await.unwrap()));
    // The store is back: nobody took it, so A takes its own back at once.
    let got = a.step(at(28_000), wall(28)).await.unwrap();
    assert!(
        matches!(got, Status::Held { epoch: 2, acquired: Some(Acquired::OursBefore(ref h)), .. } if h == "a"),
        "{got:?}"
    );
    // And B, having seen A's new write, starts counting again.
    match b.step(at(30_000), wall(30)).await.unwrap() {
        Status::Standby { takeover_in, .. } => assert_eq!(takeover_in, D),
        other => panic!("{other:?}"),
    }
}
