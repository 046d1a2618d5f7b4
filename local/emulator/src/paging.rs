//! One way to cut a listing into pages, for every Describe/List the emulator serves.
//!
//! A real account can hold more of anything than one page shows, and a client that reads only
//! the first page misses the rest without noticing. So every paged operation answers at most
//! the request's limit or, when the request names none, the `default_page_size` option (kept
//! within the operation's own range), and its `NextToken` names the last item shown: the next
//! page starts right after it, so no item is lost or repeated while the listing is unchanged,
//! and an item removed between two pages does not shift the others.

/// The page size: `requested` when given, else `default`, within `1..=max`.
pub fn page_size(requested: Option<i64>, default: usize, max: usize) -> usize {
    match requested {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(max).clamp(1, max.max(1)),
        _ => default.clamp(1, max.max(1)),
    }
}

/// Items in ascending `key` order after position `pos` (the last key of the page before),
/// at most `size`; and the position to continue from when more follow.
pub fn after_key<'a, T: 'a>(
    items: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&T) -> &str,
    pos: Option<&str>,
    size: usize,
) -> (Vec<&'a T>, Option<String>) {
    let mut rest = items
        .into_iter()
        .filter(|i| pos.is_none_or(|p| key(i) > p))
        .peekable();
    let page: Vec<&T> = rest.by_ref().take(size).collect();
    let next = match (rest.peek(), page.last()) {
        (Some(_), Some(last)) => Some(key(last).to_string()),
        _ => None,
    };
    (page, next)
}

/// Items in the order given (e.g. the ids a request named) from index `pos`, at most `size`;
/// and the index to continue from when more follow.
pub fn from_index<'a, T>(
    items: &'a [T],
    pos: Option<&str>,
    size: usize,
) -> (&'a [T], Option<String>) {
    let start = pos
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(0)
        .min(items.len());
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    (&items[start..end], next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_request_then_the_default_within_the_range() {
        assert_eq!(page_size(Some(3), 25, 25), 3);
        assert_eq!(page_size(None, 2, 25), 2);
        assert_eq!(page_size(None, 25, 5), 5);
        assert_eq!(page_size(Some(0), 2, 25), 2, "0 = the service's choice");
        assert_eq!(page_size(Some(99), 2, 25), 25);
        assert_eq!(page_size(None, 0, 25), 1);
    }

    #[test]
    fn keyed_pages_cover_everything_once() {
        let all = ["a", "b", "c", "d", "e"];
        let mut seen = Vec::new();
        let mut pos: Option<String> = None;
        loop {
            let (page, next) = after_key(all.iter(), |s| s, pos.as_deref(), 2);
            seen.extend(page.into_iter().copied());
            match next {
                Some(n) => pos = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, all);
        let (page, next) = after_key(all.iter(), |s| s, None, 5);
        assert_eq!((page.len(), next), (5, None));
    }

    #[test]
    fn indexed_pages_cover_everything_once() {
        let all = [3, 1, 2];
        let (p1, n1) = from_index(&all, None, 2);
        assert_eq!((p1, n1.as_deref()), (&[3, 1][..], Some("2")));
        let (p2, n2) = from_index(&all, n1.as_deref(), 2);
        assert_eq!((p2, n2), (&[2][..], None));
        assert_eq!(from_index(&all, Some("9"), 2).0.len(), 0);
    }
}
