//! The session's global names in sorted order, for completing a name by its prefix
//! ([`crate::assist`]); the session keeps one ([`crate::session::Session`]).

use ruchy_runtime::resolver::Globals;

/// The session's global names in sorted order, so that completing a name is a binary search
/// and the names that share the prefix, not a comparison with every binding (on a session of
/// 1,000 bindings the scan was three quarters of a completion's time, in `memcmp`). Brought up
/// to date when a completion asks: the names new since then are sorted in; after a failed
/// cell's names were forgotten ([`Globals::truncations`]) it is built again.
#[derive(Clone, Debug, Default)]
pub struct NameIndex {
    sorted: Vec<(std::rc::Rc<str>, u32)>,
    indexed: usize,
    truncations: u64,
}

impl NameIndex {
    pub fn refresh(&mut self, g: &Globals) {
        if self.truncations != g.truncations || self.indexed > g.names.len() {
            *self = NameIndex {
                truncations: g.truncations,
                ..NameIndex::default()
            };
        }
        if self.indexed == g.names.len() {
            return;
        }
        let new = g.names.iter().enumerate().skip(self.indexed);
        self.sorted
            .extend(new.map(|(slot, name)| (name.clone(), slot as u32)));
        // (a name has one slot: the names tell the entries apart)
        ruchy_runtime::sort::sort_by(&mut self.sorted, |a, b| a.0 < b.0);
        self.indexed = g.names.len();
    }

    /// The names that start with `prefix`, with their slots, in sorted order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, u32)> {
        let start = self.sorted.partition_point(|(n, _)| &**n < prefix);
        self.sorted[start..]
            .iter()
            .take_while(move |(n, _)| n.starts_with(prefix))
            .map(|(n, s)| (&**n, *s))
    }
}
