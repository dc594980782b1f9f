//! Reading requests off a socket, forgivingly. The signature is checked by
//! `jupyter-zmq-client` (`RawMessage::from_multipart`); then the header and content are parsed
//! here rather than by `Connection::read`, which gives up on a request that omits a field the
//! spec lets clients omit (`jupyter_client` sends a history search without `n` or `unique`)
//! and then has no header left to answer it with. Missing optional fields get their defaults;
//! a request that still does not parse is answered with an error reply of its type; one
//! without a readable header or signature is dropped.

use jupyter_protocol::{Header, JupyterMessage, JupyterMessageContent, UnknownMessage};
use jupyter_zmq_client::{Connection, RawMessage};
use serde_json::{json, Value};
use zeromq::SocketRecv;

/// What came off a socket.
pub enum Incoming {
    /// A request to handle.
    Request(JupyterMessage),
    /// A signed request with a header whose content does not parse: answer with this error.
    Unreadable(JupyterMessage),
    /// Nothing that can be answered (bad framing, signature, header): the reason.
    Dropped(String),
}

/// Reads the next message from a ROUTER socket.
pub async fn read<S: SocketRecv>(conn: &mut Connection<S>) -> Incoming {
    let multipart = match conn.socket.recv().await {
        Ok(m) => m,
        Err(e) => return Incoming::Dropped(format!("receiving: {e}")),
    };
    let raw = match RawMessage::from_multipart(multipart, &conn.mac) {
        Ok(raw) => raw,
        Err(e) => return Incoming::Dropped(e.to_string()),
    };
    parse(raw)
}

fn parse(raw: RawMessage) -> Incoming {
    let part = |i: usize| raw.jparts.get(i).map(|b| b.as_ref()).unwrap_or(b"{}");
    let header: Header = match serde_json::from_slice(part(0)) {
        Ok(h) => h,
        Err(e) => return Incoming::Dropped(format!("unreadable header: {e}")),
    };
    let parent_header = serde_json::from_slice(part(1)).ok();
    let metadata = serde_json::from_slice(part(2)).unwrap_or_else(|_| json!({}));
    let content: Result<Value, _> = serde_json::from_slice(part(3));
    let parsed = content.map_err(|e| e.to_string()).and_then(|c| {
        JupyterMessageContent::from_type_and_content(
            &header.msg_type,
            with_defaults(&header.msg_type, c),
        )
        .map_err(|e| e.to_string())
    });
    let mut message = JupyterMessage {
        zmq_identities: raw.zmq_identities.clone(),
        header,
        parent_header,
        metadata,
        content: JupyterMessageContent::UnknownMessage(UnknownMessage::default()),
        buffers: raw.jparts.iter().skip(4).cloned().collect(),
        channel: None,
    };
    match parsed {
        Ok(content) => {
            message.content = content;
            Incoming::Request(message)
        }
        Err(e) => {
            let reply_type = message.header.msg_type.replace("_request", "_reply");
            message.content = JupyterMessageContent::UnknownMessage(UnknownMessage {
                msg_type: message.header.msg_type.clone(),
                content: Value::Null,
            });
            let reply = JupyterMessage::new(
                JupyterMessageContent::UnknownMessage(UnknownMessage {
                    msg_type: reply_type,
                    content: json!({
                        "status": "error",
                        "ename": "BadRequest",
                        "evalue": format!("the kernel could not read this {}: {e}", message.header.msg_type),
                        "traceback": [],
                    }),
                }),
                Some(&message),
            );
            Incoming::Unreadable(reply)
        }
    }
}

/// Fills in the fields the message spec makes optional or that clients leave out.
fn with_defaults(msg_type: &str, mut content: Value) -> Value {
    let Some(obj) = content.as_object_mut() else {
        return content;
    };
    let mut default = |key: &str, value: Value| {
        obj.entry(key.to_string()).or_insert(value);
    };
    match msg_type {
        "execute_request" => {
            default("silent", json!(false));
            default("store_history", json!(true));
            default("user_expressions", json!({}));
            default("allow_stdin", json!(false));
            default("stop_on_error", json!(true));
        }
        "inspect_request" => default("detail_level", json!(0)),
        "history_request" => {
            default("output", json!(false));
            default("raw", json!(true));
            default("hist_access_type", json!("tail"));
            default("unique", json!(false));
            default("pattern", json!("*"));
            default("session", json!(0));
            default("start", json!(0));
            default("stop", json!(0));
            let tail = obj.get("hist_access_type").and_then(Value::as_str) == Some("tail");
            // a search without `n` means every match; a tail without it, the last 10
            obj.entry("n".to_string())
                .or_insert(json!(if tail { 10 } else { 0 }));
        }
        "shutdown_request" => default("restart", json!(false)),
        _ => {}
    }
    content
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn raw(header: &str, content: &str) -> RawMessage {
        RawMessage {
            zmq_identities: vec![Bytes::from_static(b"client")],
            jparts: vec![
                Bytes::copy_from_slice(header.as_bytes()),
                Bytes::from_static(b"{}"),
                Bytes::from_static(b"{}"),
                Bytes::copy_from_slice(content.as_bytes()),
            ],
        }
    }

    const HEADER: &str = r#"{"msg_id":"1","username":"u","session":"s","date":"2026-01-01T00:00:00Z","msg_type":"history_request","version":"5.3"}"#;

    #[test]
    fn history_search_without_n_or_unique() {
        let r = raw(
            HEADER,
            r#"{"hist_access_type":"search","pattern":"a*","output":false,"raw":true}"#,
        );
        assert!(
            matches!(parse(r), Incoming::Request(m) if matches!(m.content, JupyterMessageContent::HistoryRequest(_)))
        );
    }

    #[test]
    fn unparseable_content_gets_an_error_reply() {
        let r = raw(HEADER, r#"{"hist_access_type":"search","pattern":5}"#);
        match parse(r) {
            Incoming::Unreadable(reply) => {
                assert_eq!(reply.header.msg_type, "history_reply");
                assert_eq!(reply.zmq_identities, vec![Bytes::from_static(b"client")]);
            }
            _ => panic!("expected an error reply"),
        }
        assert!(matches!(parse(raw("{", "{}")), Incoming::Dropped(_)));
    }
}
