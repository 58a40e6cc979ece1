//! The event bus behind `GET /events`: every component publishes what it
//! did (an image pulled, tagged, deleted…); subscribers get the recent
//! history (for `since`) followed by live events, with no gap and no
//! duplicate between the two.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::SystemTime;

use berth_models::events::{Actor, EventMessage};
use berth_models::filters::{FilterError, Filters};
use tokio::sync::broadcast;

use crate::time::{unix_nanos, unix_seconds};

/// How many past events are kept for `since` (Docker keeps 256).
const HISTORY: usize = 1024;

pub struct Events {
    live: broadcast::Sender<EventMessage>,
    history: Mutex<VecDeque<EventMessage>>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Events")
    }
}

impl Default for Events {
    fn default() -> Self {
        Events {
            live: broadcast::channel(HISTORY).0,
            history: Mutex::new(VecDeque::with_capacity(HISTORY)),
        }
    }
}

/// What happened to whom: the parts of an event its publisher knows.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub kind: &'a str,
    pub action: &'a str,
    pub actor: &'a str,
    pub attributes: BTreeMap<String, String>,
}

impl Events {
    /// Records `event` now and sends it to the live subscribers.
    pub fn publish(&self, event: Event<'_>) {
        let now = SystemTime::now();
        let legacy = matches!(event.kind, "container" | "image");
        let message = EventMessage {
            status: if legacy {
                event.action.to_string()
            } else {
                String::new()
            },
            id: if legacy {
                event.actor.to_string()
            } else {
                String::new()
            },
            from: if event.kind == "container" {
                event.attributes.get("image").cloned().unwrap_or_default()
            } else {
                String::new()
            },
            kind: event.kind.to_string(),
            action: event.action.to_string(),
            actor: Actor {
                id: event.actor.to_string(),
                attributes: event.attributes,
            },
            scope: "local".to_string(),
            time: unix_seconds(now),
            time_nano: unix_nanos(now),
        };
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        if history.len() == HISTORY {
            history.pop_front();
        }
        history.push_back(message.clone());
        // No receiver is not an error: nobody is listening.
        let _ = self.live.send(message);
    }

    /// The recorded history and a receiver of everything published after it.
    pub fn subscribe(&self) -> (Vec<EventMessage>, broadcast::Receiver<EventMessage>) {
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let receiver = self.live.subscribe();
        (history.iter().cloned().collect(), receiver)
    }

    /// How many clients are following the stream (`NEventsListener`).
    pub fn listeners(&self) -> usize {
        self.live.receiver_count()
    }
}

/// The `filters` of `GET /events` (moby `daemon/events/filter.go`).
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    filters: Filters,
}

const EVENT_FILTERS: &[&str] = &[
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
];

impl EventFilter {
    pub fn new(filters: Filters) -> Result<Self, FilterError> {
        filters.validate(EVENT_FILTERS)?;
        Ok(EventFilter { filters })
    }

    pub fn matches(&self, e: &EventMessage) -> bool {
        let f = &self.filters;
        let any = |name: &str, candidates: &[&str]| {
            let wanted = f.get(name);
            wanted.is_empty() || wanted.iter().any(|w| candidates.contains(&w.as_str()))
        };
        let attr = |k: &str| e.actor.attributes.get(k).map(String::as_str).unwrap_or("");
        let action = e.action.split(':').next().unwrap_or(&e.action);
        let of_kind = |kind: &str| -> Vec<&str> {
            if e.kind == kind {
                vec![e.actor.id.as_str(), attr("name")]
            } else {
                Vec::new()
            }
        };
        let image_candidates: Vec<&str> = if e.kind == "image" {
            vec![e.actor.id.as_str(), attr("name")]
        } else if e.kind == "container" {
            vec![attr("image")]
        } else {
            Vec::new()
        };
        any("type", &[e.kind.as_str()])
            && any("event", &[e.action.as_str(), action])
            && any("scope", &[e.scope.as_str()])
            && any("container", &of_kind("container"))
            && any("image", &image_candidates)
            && any("volume", &of_kind("volume"))
            && any("network", &of_kind("network"))
            && any("daemon", &of_kind("daemon"))
            && f.match_labels("label", &e.actor.attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(events: &Events, kind: &str, action: &str, actor: &str) {
        let mut attributes = BTreeMap::new();
        attributes.insert("name".to_string(), format!("{actor}-name"));
        events.publish(Event {
            kind,
            action,
            actor,
            attributes,
        });
    }

    #[test]
    fn history_then_live_without_gap() {
        let events = Events::default();
        publish(&events, "image", "pull", "a");
        let (history, mut live) = events.subscribe();
        publish(&events, "image", "tag", "b");
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].action, "pull");
        assert_eq!(history[0].status, "pull");
        assert_eq!(live.try_recv().unwrap().actor.id, "b");
        assert_eq!(events.listeners(), 1);
    }

    #[test]
    fn filters_by_type_event_and_name() {
        let events = Events::default();
        publish(&events, "image", "pull", "sha256:1");
        publish(&events, "volume", "create", "v1");
        let (history, _) = events.subscribe();
        let f = |json: &str| EventFilter::new(Filters::parse(json).unwrap()).unwrap();
        let count = |filter: EventFilter| history.iter().filter(|e| filter.matches(e)).count();
        assert_eq!(count(f("{}")), 2);
        assert_eq!(count(f(r#"{"type":["image"]}"#)), 1);
        assert_eq!(count(f(r#"{"event":["create"]}"#)), 1);
        assert_eq!(count(f(r#"{"image":["sha256:1-name"]}"#)), 1);
        assert_eq!(count(f(r#"{"volume":["v1"],"type":["image"]}"#)), 0);
        assert!(EventFilter::new(Filters::parse(r#"{"bogus":["x"]}"#).unwrap()).is_err());
    }
}
