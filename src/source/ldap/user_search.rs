//! The user search by name, shared by the lookups of one name that run at once.
//!
//! proxidd answers a cold `getpwnam` by resolving the user in full (user and group
//! searches at once, so the `initgroups` that follows is answered from the cache)
//! and then reading the passwd entry, which needs the same user entry. The passwd
//! lookup gets the resolution's search instead of sending its own: the daemon holds
//! the search for that name ([`UserSearchHold`]) across the two calls. Lookups that
//! run at the same moment join one search the same way. A cold NSS lookup so costs
//! the directory two searches at once (user and groups), as nslcd's two in a row.
//!
//! A finished search is reused only while a hold on its name is alive: every other
//! lookup that starts later searches again (answers are cached above this layer,
//! with their own lifetimes). A lookup that stops waiting (its timeout) hands the
//! search to the next one waiting.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use ldap3::SearchEntry;
use tokio::sync::OnceCell;

use super::combined::UserAndGroups;
use super::query::UserKey;
use super::search::search;
use super::Inner;
use crate::error::Result;

type Answer = Arc<OnceCell<Result<Vec<SearchEntry>>>>;

/// One name's search and the holds keeping its answer.
#[derive(Default)]
struct Flight {
    answer: Answer,
    holds: usize,
    /// Someone asked for the answer (holding does not).
    asked: bool,
}

/// The user searches running now (or held), by name.
#[derive(Default)]
pub(super) struct UserSearches {
    flights: Mutex<HashMap<String, Flight>>,
}

impl UserSearches {
    fn flights(&self) -> MutexGuard<'_, HashMap<String, Flight>> {
        self.flights.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The flight for `name`, and whether this caller is the first to ask for its
    /// answer (and so, barring a race with one who is not, the one who runs it).
    fn flight(&self, name: &str) -> (Answer, bool) {
        let mut flights = self.flights();
        let flight = flights.entry(name.to_string()).or_default();
        let first = !flight.asked;
        flight.asked = true;
        (flight.answer.clone(), first)
    }

    /// Forgets `name`'s search once it is neither held nor someone else's.
    fn settle(&self, name: &str, answer: &Answer) {
        let mut flights = self.flights();
        if flights
            .get(name)
            .is_some_and(|f| f.holds == 0 && Arc::ptr_eq(&f.answer, answer))
        {
            flights.remove(name);
        }
    }
}

/// Keeps the answer of the user search for one name, for every lookup of that name
/// until dropped (see the module docs).
pub struct UserSearchHold {
    searches: Arc<UserSearches>,
    name: String,
}

impl Drop for UserSearchHold {
    fn drop(&mut self) {
        let mut flights = self.searches.flights();
        if let Some(flight) = flights.get_mut(&self.name) {
            flight.holds = flight.holds.saturating_sub(1);
            if flight.holds == 0 {
                flights.remove(&self.name);
            }
        }
    }
}

impl Inner {
    /// The attributes of a user search: what an identity needs, and the passwd
    /// entry's gecos (`gecos`, else `cn`).
    pub(super) fn nss_user_attrs(&self) -> Vec<String> {
        let mut attrs = self.user_attrs.clone();
        attrs.extend(["gecos".to_string(), "cn".to_string()]);
        attrs
    }

    /// One user search (by name or UID) on a pooled connection, within
    /// `operation_timeout`, asking for [`Inner::nss_user_attrs`].
    pub(super) async fn search_user(&self, key: &UserKey) -> Result<Vec<SearchEntry>> {
        let filter = self.user_filter(key);
        let attrs = self.nss_user_attrs();
        self.with_connection(|ldap| {
            let (base, filter, attrs) = (&self.cfg.user_base, &filter, attrs.clone());
            async move { search(ldap, base, filter, attrs).await }
        })
        .await
    }

    pub(super) fn hold_user_search(&self, name: &str) -> UserSearchHold {
        self.user_searches
            .flights()
            .entry(name.to_string())
            .or_default()
            .holds += 1;
        UserSearchHold {
            searches: self.user_searches.clone(),
            name: name.to_string(),
        }
    }

    /// The entries the user search for `name` finds: from the search running (or
    /// held) for that name if there is one, else from a new one (on a pooled
    /// connection, within `operation_timeout`).
    pub(super) async fn user_entries_by_name(&self, name: &str) -> Result<Vec<SearchEntry>> {
        let (answer, _) = self.user_searches.flight(name);
        let key = UserKey::Name(name.to_string());
        self.user_entries_from(name, &answer, || self.search_user(&key))
            .await
    }

    /// The user entries for `name` and the entries of the groups listing it
    /// (RFC2307). A lookup that starts the user search for the name asks for both at
    /// once (one search where it can: `combined`), and the search it shares carries
    /// the user entries; one that joins a search already started asks for the groups
    /// beside it.
    pub(super) async fn user_and_group_entries(&self, name: &str) -> Result<UserAndGroups> {
        let (answer, first) = self.user_searches.flight(name);
        let key = UserKey::Name(name.to_string());
        if !first {
            let users = self.user_entries_from(name, &answer, || self.search_user(&key));
            return tokio::try_join!(users, self.groups_listing(name));
        }
        let mut groups = None;
        let users = self
            .user_entries_from(name, &answer, || async {
                let one = match self.searches_user_and_groups_at_once() {
                    true => self.user_and_groups_in_one_search(name).await?,
                    false => None,
                };
                let (users, listing) = match one {
                    Some(both) => both,
                    None => tokio::try_join!(self.search_user(&key), self.groups_listing(name))?,
                };
                groups = Some(listing);
                Ok(users)
            })
            .await?;
        // Another lookup's search got there first after all: ask for the groups now.
        let groups = match groups {
            Some(groups) => groups,
            None => self.groups_listing(name).await?,
        };
        Ok((users, groups))
    }

    /// The answer of the flight `answer` for `name`, running `search` if nobody
    /// has started it.
    async fn user_entries_from<F, Fut>(
        &self,
        name: &str,
        answer: &Answer,
        search: F,
    ) -> Result<Vec<SearchEntry>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<SearchEntry>>>,
    {
        let found = answer.get_or_init(search).await.clone();
        self.user_searches.settle(name, answer);
        found
    }
}
