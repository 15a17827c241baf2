//! The event loop: signs in, keeps one WebSocket up (reconnecting with backoff), feeds
//! stdin lines and server frames to the [`Session`] and carries out its actions. The
//! commands the HTTP API answers are in [`queries`] (and [`search`]).

use reqwest::{StatusCode, Url};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};

use crate::api::{ApiClient, ApiError};
use crate::input::{self, Input};
use crate::names::LOOKUP_BATCH;
use crate::session::{Action, Session};
use crate::socket::{self, ConnectError, Incoming, Socket};
use crate::terminal::Keyboard;
use crate::{password, sign_in, terminal, Args, ClientError};

mod queries;
mod reactions;
mod search;

/// After end of input (or `/quit`), how long unanswered requests (and the echo of our own
/// acknowledged messages) are still waited for.
const QUIT_GRACE: Duration = Duration::from_secs(2);
/// Silence after which the connection is presumed dead, until `hello` says otherwise.
const DEFAULT_IDLE: Duration = Duration::from_secs(40);
/// Every this many failed reconnect attempts, say so again.
const REPORT_EVERY: u32 = 10;
/// At most one `typing` per this interval (the server lets it lapse after 5 s).
const TYPING_EVERY: Duration = Duration::from_secs(3);
/// Messages shown when a room is joined for the first time.
const RECENT_ON_JOIN: u32 = 20;

/// Signs in, connects and runs until stdin ends or `/quit`.
pub async fn run(args: Args) -> Result<(), ClientError> {
    let base = sign_in::server_url(&args.server)?;
    let ws_url = socket::ws_url(&base).map_err(|reason| ClientError::BadServerUrl {
        url: args.server.clone(),
        reason,
    })?;
    let password = password::resolve(&args)?;
    let mut api = ApiClient::new(base);
    let me = sign_in::sign_in(&mut api, &args, &password).await?;
    terminal::note(&format!("* signed in as {} ({})", args.user, me.user_id));
    let token = api.token().unwrap_or_default();
    let socket = match socket::connect(&ws_url, token).await {
        Ok(socket) => socket,
        Err(ConnectError::Unauthorized) => return Err(ClientError::BadCredentials),
        Err(ConnectError::Failed(e)) => {
            return Err(ClientError::WebSocket(format!("{ws_url}: {e}")))
        }
    };
    let keyboard = terminal::start(terminal::interactive_wanted(args.plain));
    let show_acks = args.verbose || !keyboard.is_interactive();
    let mut client = Client {
        args,
        password,
        api,
        ws_url,
        session: Session::default(),
        link: Link::up(socket),
        keyboard,
        stdin_open: true,
        quit_by: None,
        show_acks,
        last_typing: None,
    };
    // A person reads rooms by name; scripts match on ids.
    client
        .session
        .show_room_names(client.keyboard.is_interactive());
    // A person types room names from the start (`/switch @ines`): learn what the rooms
    // are called before the first prompt.
    if client.keyboard.is_interactive() {
        client.learn_room_names().await;
    }
    for room in client.args.rooms.clone() {
        let actions = client.session.join(room);
        client.perform(actions).await;
    }
    client.keyboard.ready_for_next_line();
    client.run().await
}

struct Client {
    args: Args,
    password: String,
    api: ApiClient,
    ws_url: Url,
    session: Session,
    link: Link,
    keyboard: Keyboard,
    stdin_open: bool,
    /// Set at end of input: exit once nothing is outstanding, or at this instant.
    quit_by: Option<Instant>,
    /// Print `ok …` acknowledgements (plain mode, or `--verbose`).
    show_acks: bool,
    /// The room and time of the last `typing` sent.
    last_typing: Option<(chat_schemas::RoomId, Instant)>,
}

enum Link {
    Up {
        socket: Box<Socket>,
        /// `hello` arrived; until then frames wait (they are outstanding and go out then).
        ready: bool,
        last_heard: Instant,
        idle: Duration,
    },
    Down {
        attempt: u32,
        retry_at: Instant,
    },
}

impl Link {
    fn up(socket: Socket) -> Self {
        Link::Up {
            socket: Box::new(socket),
            ready: false,
            last_heard: Instant::now(),
            idle: DEFAULT_IDLE,
        }
    }
}

/// What woke the loop.
enum Wake {
    Line(Option<String>),
    Key,
    Incoming(Incoming),
    Silence,
    Retry,
    QuitTimer,
    ReadDue,
}

impl Client {
    async fn run(mut self) -> Result<(), ClientError> {
        loop {
            if let Some(deadline) = self.quit_by {
                if self.session.awaiting() == 0 || Instant::now() >= deadline {
                    break;
                }
            }
            let quit_at = self.quit_by.unwrap_or_else(far_future);
            let read_at = self
                .session
                .next_read_at()
                .map_or_else(far_future, Instant::from_std);
            let stdin_open = self.stdin_open;
            let wake = match &mut self.link {
                Link::Up {
                    socket,
                    last_heard,
                    idle,
                    ..
                } => tokio::select! {
                    line = self.keyboard.lines.recv(), if stdin_open => Wake::Line(line),
                    Some(()) = self.keyboard.keys.recv(), if stdin_open => Wake::Key,
                    incoming = socket::next(socket) => Wake::Incoming(incoming),
                    _ = sleep_until(*last_heard + *idle) => Wake::Silence,
                    _ = sleep_until(quit_at) => Wake::QuitTimer,
                    _ = sleep_until(read_at) => Wake::ReadDue,
                },
                Link::Down { retry_at, .. } => tokio::select! {
                    line = self.keyboard.lines.recv(), if stdin_open => Wake::Line(line),
                    Some(()) = self.keyboard.keys.recv(), if stdin_open => Wake::Key,
                    _ = sleep_until(*retry_at) => Wake::Retry,
                    _ = sleep_until(quit_at) => Wake::QuitTimer,
                },
            };
            match wake {
                Wake::Line(Some(line)) => {
                    // Keys of this line not yet reported are no longer typing: a `typing`
                    // sent after the message would show it as still being written.
                    while self.keyboard.keys.try_recv().is_ok() {}
                    self.on_line(&line).await;
                    if self.stdin_open {
                        self.keyboard.ready_for_next_line();
                    }
                }
                Wake::Line(None) => self.begin_quit(),
                Wake::Key => self.on_key().await,
                Wake::Incoming(incoming) => self.on_incoming(incoming).await,
                Wake::Silence => self.lost("nothing heard from the server".into()),
                Wake::Retry => self.reconnect().await?,
                Wake::QuitTimer | Wake::ReadDue => {}
            }
            // What the person has seen goes out as `read`, debounced per room.
            let reads = self.session.reads_due(Instant::now().into_std());
            self.perform(reads).await;
        }
        let unanswered = self.session.awaiting();
        if unanswered > 0 {
            terminal::note(&format!(
                "* exiting with {unanswered} request(s) unanswered"
            ));
        }
        if let Link::Up { socket, .. } = &mut self.link {
            socket::close(socket).await;
        }
        Ok(())
    }

    fn begin_quit(&mut self) {
        self.stdin_open = false;
        self.quit_by
            .get_or_insert_with(|| Instant::now() + QUIT_GRACE);
    }

    async fn on_incoming(&mut self, incoming: Incoming) {
        if let Link::Up {
            last_heard,
            ready,
            idle,
            ..
        } = &mut self.link
        {
            *last_heard = Instant::now();
            if let Incoming::Frame(frame) = &incoming {
                if let chat_schemas::ws::ServerFrame::Hello {
                    idle_timeout_ms, ..
                } = frame.as_ref()
                {
                    *ready = true;
                    *idle = Duration::from_millis(*idle_timeout_ms).max(Duration::from_secs(1));
                }
            }
        }
        match incoming {
            Incoming::Frame(frame) => {
                let actions = self.session.on_frame(*frame);
                self.perform(actions).await;
            }
            Incoming::Inbox(frame) => {
                let actions = self.session.on_inbox(frame);
                self.perform(actions).await;
            }
            Incoming::Heard => {}
            Incoming::Unreadable(e) => {
                terminal::note(&format!("error: unreadable frame from the server: {e}"))
            }
            Incoming::Closed(reason) => self.lost(reason),
        }
    }

    /// The connection is gone: reconnect soon.
    fn lost(&mut self, reason: String) {
        self.session.disconnected();
        terminal::note(&format!("* disconnected: {reason}; reconnecting"));
        self.link = Link::Down {
            attempt: 0,
            retry_at: Instant::now() + socket::backoff(0),
        };
    }

    async fn reconnect(&mut self) -> Result<(), ClientError> {
        let Link::Down { attempt, .. } = self.link else {
            return Ok(());
        };
        let token = self.api.token().unwrap_or_default().to_owned();
        let failure = match socket::connect(&self.ws_url, &token).await {
            Ok(socket) => {
                self.link = Link::up(socket);
                return Ok(());
            }
            Err(ConnectError::Unauthorized) => {
                // The token expired (or the secret changed): sign in again, then retry.
                match self.api.login(&self.args.user, &self.password).await {
                    Ok(_) => {
                        self.link = Link::Down {
                            attempt,
                            retry_at: Instant::now(),
                        };
                        return Ok(());
                    }
                    Err(ApiError::Refused {
                        status: StatusCode::UNAUTHORIZED,
                        ..
                    }) => return Err(ClientError::BadCredentials),
                    Err(e) => e.to_string(),
                }
            }
            Err(ConnectError::Failed(e)) => e,
        };
        if attempt % REPORT_EVERY == 0 {
            terminal::note(&format!("* reconnect failed: {failure}; retrying"));
        }
        self.link = Link::Down {
            attempt: attempt + 1,
            retry_at: Instant::now() + socket::backoff(attempt + 1),
        };
        Ok(())
    }

    async fn perform(&mut self, actions: Vec<Action>) {
        let mut queue: VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Print(line) => terminal::print(&line),
                Action::Note(line) => terminal::note(&line),
                Action::Ack(line) => {
                    if self.show_acks {
                        terminal::note(&line)
                    }
                }
                Action::ShowRecent { room, up_to } => self.show_recent(&room, up_to).await,
                Action::LookUp(ids) => {
                    // What the lookup releases goes before what was queued after it.
                    let released = self.look_up(ids).await;
                    for action in released.into_iter().rev() {
                        queue.push_front(action);
                    }
                }
                Action::Send(frame) => {
                    let Link::Up {
                        socket,
                        ready: true,
                        ..
                    } = &mut self.link
                    else {
                        continue;
                    };
                    if let Err(reason) = socket::send(socket, &frame).await {
                        self.lost(reason);
                    }
                }
            }
        }
    }

    /// Names for `ids`, in batches of [`LOOKUP_BATCH`]; a failed batch leaves its people
    /// shown by short ids rather than holding lines back.
    async fn look_up(&mut self, ids: Vec<String>) -> Vec<Action> {
        let mut actions = Vec::new();
        for batch in ids.chunks(LOOKUP_BATCH) {
            let found = match self.api.people(batch).await {
                Ok(list) => list.users,
                Err(e) => {
                    terminal::note(&format!("error: looking up names: {e}"));
                    Vec::new()
                }
            };
            actions.extend(self.session.people_found(batch, &found));
        }
        actions
    }

    /// A key typed into the line: tell the current room, at most every [`TYPING_EVERY`].
    async fn on_key(&mut self) {
        let Some(room) = self.session.current_room().cloned() else {
            return;
        };
        if let Some((last_room, at)) = &self.last_typing {
            if *last_room == room && at.elapsed() < TYPING_EVERY {
                return;
            }
        }
        let actions = self.session.typing();
        if !actions.is_empty() {
            self.last_typing = Some((room, Instant::now()));
            self.perform(actions).await;
        }
    }

    async fn on_line(&mut self, line: &str) {
        let input = match input::parse(line) {
            Ok(input) => input,
            Err(message) => return terminal::note(&format!("error: {message}")),
        };
        let actions = match input {
            Input::Nothing => Vec::new(),
            Input::Message(text) => self.session.send_message(text),
            Input::Leave(target) => self.session.leave_named(target.as_deref()),
            Input::Switch(target) => self.session.switch_to(&target),
            Input::Status(status) => self.session.set_status(status),
            Input::Quit => {
                self.begin_quit();
                Vec::new()
            }
            Input::Help => vec![Action::Note(input::HELP.into())],
            query => match self.query(query).await {
                Ok(actions) => actions,
                Err(e) => vec![Action::Note(format!("error: {e}"))],
            },
        };
        self.perform(actions).await;
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
