//! The receiver over HTTP: a [`Receiver`] driven by [`HttpClient`].

use std::time::Instant;

use bytes::Bytes;
use fbcomet_http::HttpClient;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::receiver::{Cause, ConfigError, Failure, Output, PollId, PollRequest, Receiver, Stats};

/// What the request task reports.
enum Progress {
    Status(u16),
    Data(Bytes),
    End,
    Failed(Failure),
}

struct Flight {
    id: PollId,
    rx: mpsc::Receiver<Progress>,
    task: JoinHandle<()>,
}

impl Drop for Flight {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Listens to a channel over HTTP: the embedder's API.
///
/// [`next`](Self::next) drives the polls and returns what the receiver has
/// to say, events first among them. Dropping the listener (or calling
/// [`shutdown`](Self::shutdown)) cancels the poll under way. The future
/// `next` returns may be dropped at any time without losing anything.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use fbcomet_receiver::{Config, Endpoint, Listener, Output};
/// use fbcomet_http::{HttpClient, HttpConfig};
///
/// let config = Config::new(1001, Endpoint::channel(7).with_base("http://127.0.0.1:8008"));
/// let mut listener = Listener::new(config, HttpClient::new(HttpConfig::default()))?;
/// while let Some(output) = listener.next().await {
///     match output {
///         Output::Event(delivery) => println!("{}", delivery.event),
///         Output::RenewNeeded { .. } => listener.renew(None, None), // or call reconnect.php first
///         Output::Lost { last } => eprintln!("lost: {last}"),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Listener {
    core: Receiver,
    http: HttpClient,
    flight: Option<Flight>,
    closed: bool,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").field("core", &self.core).field("closed", &self.closed).finish_non_exhaustive()
    }
}

impl Listener {
    /// A listener that polls with `http` (which carries the session's
    /// cookies and the proxy, if any).
    pub fn new(config: Config, http: HttpClient) -> Result<Self, ConfigError> {
        Ok(Self { core: Receiver::new(config, Instant::now())?, http, flight: None, closed: false })
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        self.core.stats()
    }

    /// The state machine underneath.
    pub fn receiver(&self) -> &Receiver {
        &self.core
    }

    /// Resumes polling after [`Output::RenewNeeded`], from `seq` and on
    /// `channel` where the renewal (reconnect.php) named them.
    pub fn renew(&mut self, seq: Option<i64>, channel: Option<u32>) {
        self.core.renew(Instant::now(), seq, channel);
    }

    /// After [`Output::Gap`](crate::Output::Gap) with
    /// [`Config::pause_on_gap`](crate::Config::pause_on_gap): see
    /// [`Receiver::resume_after_gap`].
    pub fn resume_after_gap(&mut self, recovered: impl IntoIterator<Item = String>) {
        self.core.resume_after_gap(Instant::now(), recovered);
    }

    /// Records messages the application delivered itself; see
    /// [`Receiver::mark_delivered`].
    pub fn mark_delivered(&mut self, keys: impl IntoIterator<Item = String>) {
        self.core.mark_delivered(keys);
    }

    /// Stops: the poll under way is cancelled and [`next`](Self::next)
    /// returns `None` from now on.
    pub fn shutdown(&mut self) {
        self.flight = None;
        self.closed = true;
    }

    /// The next output, `None` once the session is lost (after its
    /// [`Output::Lost`]) or the listener was shut down.
    pub async fn next(&mut self) -> Option<Output> {
        loop {
            if self.closed {
                return None;
            }
            if let Some(output) = self.core.poll_output() {
                return Some(output);
            }
            if self.core.is_lost() {
                return None;
            }
            if self.flight.is_none()
                && let Some(request) = self.core.poll_transmit(Instant::now())
            {
                self.flight = Some(self.start(request));
                continue;
            }
            let wake = self.core.poll_timeout().map(tokio::time::Instant::from_std);
            let progress = async {
                match &mut self.flight {
                    Some(flight) => flight.rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            let sleep = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                progress = progress => self.feed(progress),
                () = sleep => self.core.handle_timeout(Instant::now()),
            }
            // Drop a request the receiver no longer waits for.
            if let Some(flight) = &self.flight
                && self.core.in_flight() != Some(flight.id)
            {
                self.flight = None;
            }
        }
    }

    fn feed(&mut self, progress: Option<Progress>) {
        let Some(flight) = &self.flight else { return };
        let (id, now) = (flight.id, Instant::now());
        match progress {
            Some(Progress::Status(status)) => self.core.handle_status(id, now, status),
            Some(Progress::Data(data)) => self.core.handle_data(id, now, &data),
            Some(Progress::End) => {
                self.core.handle_end(id, now);
                self.flight = None;
            }
            Some(Progress::Failed(failure)) => {
                self.core.handle_failure(id, now, failure);
                self.flight = None;
            }
            None => {
                self.core.handle_failure(id, now, Failure::Other("the request task ended".to_owned()));
                self.flight = None;
            }
        }
    }

    fn start(&self, request: PollRequest) -> Flight {
        let (tx, rx) = mpsc::channel(16);
        let http = self.http.clone();
        let deadline = tokio::time::Instant::from_std(request.deadline);
        let url = request.url;
        let task = tokio::spawn(async move {
            let mut response = match http.open("GET", &url, deadline).await {
                Ok(response) => response,
                Err(err) => {
                    let _ = tx.send(Progress::Failed(failure_of(err))).await;
                    return;
                }
            };
            if tx.send(Progress::Status(response.status)).await.is_err() {
                return;
            }
            loop {
                let progress = match response.chunk().await {
                    Ok(Some(data)) => Progress::Data(data),
                    Ok(None) => Progress::End,
                    Err(err) => Progress::Failed(failure_of(err)),
                };
                let last = !matches!(progress, Progress::Data(_));
                if tx.send(progress).await.is_err() || last {
                    return;
                }
            }
        });
        Flight { id: request.id, rx, task }
    }
}

fn failure_of(err: fbcomet_http::Error) -> Failure {
    if err.is_timeout() {
        Failure::Timeout
    } else if err.is_connect() {
        Failure::Connect(Cause::new(err))
    } else {
        Failure::Transport(Cause::new(err))
    }
}
