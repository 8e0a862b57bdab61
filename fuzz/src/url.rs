//! The url parser (`sessionstore::Config::parse`, docs/API.md §1): it never panics, refuses
//! only with `Config` errors, never shows a password (in an error message, in `redacted_url()`
//! or in a `Debug`), and an accepted url's redacted form parses again to the same
//! configuration, with `***` for the password.
//!
//! The password is the userinfo after its first ':' and before the last '@' that follows
//! `scheme://`. To tell a password that leaks from text that only looks like it, passwords carry
//! the marker [`MARK`]: a check applies when the url holds the marker only inside its password,
//! raw and percent-decoded, and then no text the parser produces may hold it.
//!
//! Not checked: credentials holding a raw '/' or '?' (in the user name or the password). RFC
//! 3986 ends the authority there (such a character must be percent-encoded), so the parser reads
//! the rest as a path or a query, and its messages may quote part of the password as a host,
//! port, database or option. fuzz/README.md ("Findings") has the details.
//!
//! Input: one byte choosing raw text (the rest, as UTF-8) or a url assembled from parts.

use arbitrary::{Arbitrary, Unstructured};
use percent_encoding::percent_decode_str;
use sessionstore::{BackendConfig, Config, ErrorKind};

/// The marker every generated password carries.
const MARK: &str = "PWq";

const SCHEMES: &[&str] = &[
    "redis://",
    "rediss://",
    "redis+sentinel://",
    "rediss+sentinel://",
    "redis+cluster://",
    "rediss+cluster://",
    "REDIS://",
    "memory://",
    "nope://",
    "",
];

const USERS: &[&str] = &[
    "app", "default", "a%40b", "a%3Ab", "a%2Fb", "a%25b", "a:b", "us er", "a?b", "a@b", "",
];

const HOSTS: &[&str] = &[
    "127.0.0.1",
    "localhost:6380",
    "h:1",
    "[::1]:7002",
    "[::1]",
    "a.b-c_d:65535",
    "h:0",
    "h:65536",
    "",
    "h/x",
    "bad host",
];

/// What may separate the marked segments of a password: the url's own delimiters above all.
const SEPARATORS: &[&str] = &[
    "", "/", "?", "@", ":", "#", "&", "=", ",", "%", "%40", "%2F", "%zz", " ", "*", "[", "]",
];

const OPTIONS: &[&str] = &[
    "prefix=app:v1",
    "prefix=",
    "timeout_ms=50",
    "ttl_ms=60000",
    "ttl_ms=0",
    "max_value_bytes=4096",
    "max_value_bytes=1",
    "near=1",
    "prefix",
];

/// A url assembled from parts, most of them from the tables above.
#[derive(Arbitrary, Debug)]
struct Parts {
    scheme: u8,
    user: Option<Text>,
    password: Option<Vec<(u8, String)>>,
    hosts: Vec<Text>,
    path: Vec<Text>,
    options: Vec<Text>,
}

#[derive(Arbitrary, Debug)]
enum Text {
    Table(u8),
    Free(String),
}

impl Text {
    fn get<'a>(&'a self, table: &[&'a str]) -> &'a str {
        match self {
            Text::Table(i) => table[*i as usize % table.len()],
            Text::Free(s) => s,
        }
    }
}

/// Checks the parser on the url that `data` holds.
pub fn run(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    if sel & 1 == 0 {
        let url = String::from_utf8_lossy(rest);
        let password = password_of(&url).map(str::to_owned);
        check(&url, password.as_deref());
    } else {
        let Ok(parts) = Parts::arbitrary_take_rest(Unstructured::new(rest)) else {
            return;
        };
        let (url, password) = assemble(&parts);
        check(&url, password.as_deref());
    }
}

/// The password of `url` as defined above, if it has one.
fn password_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let userinfo = &rest[..rest.rfind('@')?];
    Some(userinfo.split_once(':')?.1)
}

fn assemble(parts: &Parts) -> (String, Option<String>) {
    let mut url = SCHEMES[parts.scheme as usize % SCHEMES.len()].to_owned();
    let password = parts.password.as_ref().map(|segments| {
        segments
            .iter()
            .map(|(sep, body)| {
                let sep = SEPARATORS[*sep as usize % SEPARATORS.len()];
                format!("{sep}{MARK}{body}")
            })
            .collect::<String>()
    });
    match (&parts.user, &password) {
        (user, Some(p)) => {
            url.push_str(user.as_ref().map_or("", |u| u.get(USERS)));
            url.push(':');
            url.push_str(p);
            url.push('@');
        }
        (Some(user), None) => {
            url.push_str(user.get(USERS));
            url.push('@');
        }
        (None, None) => {}
    }
    let hosts: Vec<&str> = parts.hosts.iter().map(|h| h.get(HOSTS)).collect();
    url.push_str(&hosts.join(","));
    for segment in &parts.path {
        url.push('/');
        url.push_str(segment.get(&["0", "3", "mymaster", "", "x", "65536", "m@x"]));
    }
    if !parts.options.is_empty() {
        let options: Vec<&str> = parts.options.iter().map(|o| o.get(OPTIONS)).collect();
        url.push('?');
        url.push_str(&options.join("&"));
    }
    (url, password)
}

/// Whether the credentials of `url` up to the end of its password hold no raw '/' or '?',
/// which would end the authority (see the module's doc).
fn rfc_credentials(url: &str, password: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    !scheme.contains(['/', '?'])
        && rest
            .find(password)
            .is_some_and(|at| !rest[..at + password.len()].contains(['/', '?']))
}

fn decoded(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Whether the marker in `url` is the password's alone, so that any leak of it is one.
fn marker_is_the_passwords(url: &str, password: &str) -> bool {
    let count = |text: &str| text.matches(MARK).count();
    count(password) > 0
        && count(url) == count(password)
        && count(&decoded(url)) == count(&decoded(password))
}

fn check(url: &str, password: Option<&str>) {
    let marked =
        password.is_some_and(|p| rfc_credentials(url, p) && marker_is_the_passwords(url, p));
    let assert_hidden = |what: &str, text: &str| {
        if marked {
            assert!(
                !text.contains(MARK),
                "{what} shows the password of {url:?}: {text:?}"
            );
        }
    };
    let config = match Config::parse(url) {
        Ok(config) => config,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Config, "{url:?}: {e}");
            assert_hidden("the error message", &e.to_string());
            assert_hidden("the error's Debug", &format!("{e:?}"));
            return;
        }
    };
    let redacted = config.redacted_url();
    assert_hidden("redacted_url()", &redacted);
    assert_hidden("the Debug of Config", &format!("{config:?}"));
    assert_hidden(
        "the Debug of BackendConfig",
        &format!("{:?}", config.backend),
    );

    // The redacted url is a url for the same servers and options, with `***` for a password.
    let mut expected = config.clone();
    if let BackendConfig::Redis(redis) = &mut expected.backend {
        if redis.password.is_some() {
            assert!(redacted.contains("***"), "{url:?} -> {redacted:?}");
            redis.password = Some("***".to_owned());
        }
    }
    match Config::parse(&redacted) {
        Ok(again) => assert_eq!(
            again, expected,
            "{url:?} redacts to {redacted:?}, which parses to another configuration"
        ),
        Err(e) => panic!("{url:?} redacts to {redacted:?}, which does not parse: {e}"),
    }
}
