//! `sessionstore`: list, show, destroy and count the sessions of a Redis backend, through the
//! core's read-only admin API (`sessionstore::admin`) and its `StoreFactory::destroy_session`.
//! Usage, output shapes and exit codes: cli/README.md.

mod json;
mod output;
mod progress;

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind as ClapKind;
use clap::{Parser, Subcommand};
use sessionstore::admin::{Admin, SessionInfo};
use sessionstore::{Error, ErrorKind, SessionId, StoreFactory};

use output::Origin;
use progress::Progress;

/// Exit status: success.
const OK: u8 = 0;
/// Exit status: a usage error, a bad url or session id, or a `memory://` url.
const USAGE: u8 = 1;
/// Exit status: the backend could not be reached, or it failed.
const BACKEND: u8 = 2;
/// Exit status: `show` or `destroy` named a session that does not exist.
const NO_SUCH_SESSION: u8 = 3;

/// List, show, destroy and count the sessions a sessionstore backend holds.
///
/// Exit status: 0 ok, 1 usage or url error, 2 backend unreachable or failed, 3 no such
/// session (show, destroy).
#[derive(Parser)]
#[command(name = "sessionstore", version, max_term_width = 100)]
struct Cli {
    /// The backend url (docs/API.md §1), e.g. redis://127.0.0.1:6379?prefix=app; its
    /// prefix= option picks the namespace (default ss)
    #[arg(long, global = true, env = "SESSIONSTORE_URL", hide_env_values = true)]
    url: Option<String>,

    /// Print one JSON document for scripts instead of a table
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List sessions with their key count, bytes and lease left, sorted by id
    Ls {
        /// Only ids matching this Redis glob (*, ?, [a-z], \ escapes)
        #[arg(
            long = "match",
            value_name = "GLOB",
            default_value = "*",
            value_parser = clap::builder::NonEmptyStringValueParser::new()
        )]
        pattern: String,
        /// Stop after N sessions (the scan order is arbitrary)
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Show every key of a session with its value as JSON
    Show {
        /// The session id
        sid: String,
    },
    /// Destroy sessions: their data goes, and every handle open on them answers "destroyed"
    Destroy {
        /// The session ids
        #[arg(required = true, value_name = "SID")]
        sids: Vec<String>,
    },
    /// Count sessions, keys and bytes, sessions without a TTL, and the spread of the TTLs
    Stats,
}

/// Why the command failed: one line for stderr, and the exit status.
struct Failure {
    status: u8,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let status = match e.kind() {
            ErrorKind::Config | ErrorKind::InvalidArg | ErrorKind::NullArg => USAGE,
            _ => BACKEND,
        };
        Failure {
            status,
            message: e.to_string(),
        }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        status: USAGE,
        message: message.into(),
    }
}

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("sessionstore: internal error (a bug; please report it): {what}");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_failure(e),
    };
    let result = std::panic::catch_unwind(|| run(&cli)).unwrap_or_else(|_| {
        Err(Failure {
            status: BACKEND,
            message: String::new(),
        })
    });
    match result {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            // A reader that went away (`| head`) is no failure of ours.
            let _ = writeln!(stdout, "{out}").and_then(|()| stdout.flush());
            ExitCode::from(OK)
        }
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("sessionstore: {}", one_line(&f.message));
            }
            ExitCode::from(f.status)
        }
    }
}

/// Help and version go to stdout with status 0; a usage error is one line and status 1.
fn clap_failure(e: clap::Error) -> ExitCode {
    match e.kind() {
        ClapKind::DisplayHelp | ClapKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::from(OK)
        }
        ClapKind::DisplayHelpOnMissingArgumentOrSubcommand | ClapKind::MissingSubcommand => {
            eprintln!(
                "sessionstore: a command is needed: ls, show, destroy or stats \
                 (see sessionstore --help)"
            );
            ExitCode::from(USAGE)
        }
        _ => {
            // clap's message, up to its usage block, as one line.
            let rendered = e.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("tip:") && !l.starts_with("For more"))
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            eprintln!("sessionstore: {message} (see sessionstore --help)");
            ExitCode::from(USAGE)
        }
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn run(cli: &Cli) -> Result<String, Failure> {
    let url = match cli.url.as_deref() {
        Some(url) if !url.is_empty() => url,
        _ => {
            return Err(usage(
                "no backend url: give --url URL or set SESSIONSTORE_URL \
                 (e.g. redis://127.0.0.1:6379)",
            ))
        }
    };
    // Ids are checked before anything is dialled: a typo is a usage error, whatever the
    // state of the servers.
    match &cli.command {
        Command::Show { sid } => check_ids([sid])?,
        Command::Destroy { sids } => check_ids(sids)?,
        Command::Ls { .. } | Command::Stats => {}
    }
    let admin = Admin::open(url).map_err(|e| scrubbed(e, url))?;
    let origin = Origin {
        url: admin.config().backend.redacted_url(),
        prefix: admin.config().prefix.clone(),
    };
    match &cli.command {
        Command::Ls { pattern, limit } => ls(&admin, &origin, pattern, *limit, cli.json),
        Command::Show { sid } => match admin.read(sid)? {
            Some(data) => Ok(output::show(&origin, &data, cli.json)),
            None => Err(no_such_session(&origin, sid)),
        },
        Command::Destroy { sids } => destroy(&admin, url, &origin, sids, cli.json),
        Command::Stats => {
            let progress = Progress::start(&origin.url);
            let stats = admin.stats(&mut |p| progress.update(p));
            progress.finish();
            Ok(output::stats(&origin, &stats?, cli.json))
        }
    }
}

/// A url error with every quoted piece that shares text with the url's credentials hidden.
///
/// The core prints urls redacted, but a few of its url-syntax messages quote the piece they
/// could not parse, and a password holding an unescaped `/`, `?` or `#` is cut there, so
/// the piece can be part of it (`bad port in "user:pa"` for `redis://user:pa/ss@host`).
fn scrubbed(e: Error, url: &str) -> Failure {
    let mut failure = Failure::from(e);
    if let Some(credentials) = url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .map(|(credentials, _)| credentials)
    {
        failure.message = hide_quoted(&failure.message, credentials);
    }
    failure
}

/// `message` with each `"…"` that shares two characters in a row with `secret` as `"***"`.
fn hide_quoted(message: &str, secret: &str) -> String {
    let secret: Vec<char> = secret.chars().collect();
    let shares = |piece: &str| {
        let piece: Vec<char> = piece.chars().collect();
        piece
            .windows(2)
            .any(|pair| secret.windows(2).any(|s| s == pair))
    };
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        // Debug-quoted text escapes its own quotes as \".
        let close = after
            .char_indices()
            .find(|&(i, c)| c == '"' && !after[..i].ends_with('\\'))
            .map(|(i, _)| i);
        let Some(close) = close else {
            out.push_str(after);
            return out;
        };
        let piece = &after[..close];
        out.push_str(if shares(piece) { "***" } else { piece });
        out.push('"');
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn check_ids<'a>(sids: impl IntoIterator<Item = &'a String>) -> Result<(), Failure> {
    for sid in sids {
        SessionId::parse(sid.as_bytes()).map_err(|e| usage(format!("{sid:?}: {e}")))?;
    }
    Ok(())
}

fn no_such_session(origin: &Origin, sid: &str) -> Failure {
    Failure {
        status: NO_SUCH_SESSION,
        message: format!(
            "no such session: {sid} (prefix {} on {})",
            origin.prefix, origin.url
        ),
    }
}

fn ls(
    admin: &Admin,
    origin: &Origin,
    pattern: &str,
    limit: Option<usize>,
    as_json: bool,
) -> Result<String, Failure> {
    let mut scan = admin.sessions(pattern)?;
    let progress = Progress::start(&origin.url);
    let mut found: Vec<SessionInfo> = Vec::new();
    let mut limited = false;
    let result = loop {
        let next = scan.next();
        if limit.is_some_and(|n| found.len() >= n) {
            // Limited: the listing had at least one more session.
            limited = matches!(next, Some(Ok(_)));
            break next.transpose().map(|_| ());
        }
        match next {
            Some(Ok(info)) => {
                found.push(info);
                progress.update(&scan.progress());
            }
            Some(Err(e)) => break Err(e),
            None => break Ok(()),
        }
    };
    progress.finish();
    result?;
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(output::ls(origin, &found, limited, as_json))
}

fn destroy(
    admin: &Admin,
    url: &str,
    origin: &Origin,
    sids: &[String],
    as_json: bool,
) -> Result<String, Failure> {
    let (mut destroyed, mut missing) = (Vec::new(), Vec::new());
    let mut factory: Option<StoreFactory> = None;
    for sid in sids {
        if destroyed.contains(sid) || missing.contains(sid) {
            continue;
        }
        if admin.session(sid)?.is_none() {
            missing.push(sid.clone());
            continue;
        }
        let factory = match &mut factory {
            Some(f) => f,
            none => none.insert(StoreFactory::open(url)?),
        };
        // The library's own destroy: the hash goes, open handles everywhere answer Destroyed.
        factory.destroy_session(sid)?;
        destroyed.push(sid.clone());
    }
    if let Some(f) = factory {
        f.close();
    }
    let out = output::destroy(origin, &destroyed, &missing, as_json);
    if missing.is_empty() {
        return Ok(out);
    }
    // The report still goes to stdout; the missing ids make the status.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{out}").and_then(|()| stdout.flush());
    Err(Failure {
        status: NO_SUCH_SESSION,
        message: format!(
            "no such session: {} (prefix {} on {})",
            missing.join(", "),
            origin.prefix,
            origin.url
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_pieces_of_the_credentials_are_hidden() {
        assert_eq!(
            hide_quoted(r#"bad port in "u:pa""#, "u:pa/ss"),
            r#"bad port in "***""#
        );
        assert_eq!(
            hide_quoted(r#"option "ss@127.0.0.1:6379" has no value"#, "u:pa?ss"),
            r#"option "***" has no value"#
        );
        // Pieces without the credentials' text stay, and so does what is not quoted.
        assert_eq!(
            hide_quoted(r#"unknown option "color" (known: prefix)"#, "app:s3cret"),
            r#"unknown option "color" (known: prefix)"#
        );
        assert_eq!(
            hide_quoted(r#"a "b\"c" d "unclosed"#, "xyz"),
            r#"a "b\"c" d "unclosed"#
        );
        assert_eq!(hide_quoted("no quotes", "secret"), "no quotes");
    }
}
