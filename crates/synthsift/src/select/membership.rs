//! Which pool rows are selected, with O(1) swaps.

const NONE: u32 = u32::MAX;

/// The selected rows and the eligible rows outside the selection.
///
/// Both lists are kept in a deterministic order (swaps overwrite in place,
/// removals move the last element into the hole).
pub(crate) struct Membership {
    pub inside: Vec<u32>,
    pub outside: Vec<u32>,
    /// Position of each pool row in `inside` or `outside` (`NONE` if ineligible).
    pos: Vec<u32>,
    is_in: Vec<bool>,
}

impl Membership {
    /// `selected` rows inside, all other eligible rows outside (in pool order).
    pub fn new(n_pool: usize, eligible: Option<&[bool]>, selected: &[u32]) -> Membership {
        let mut is_in = vec![false; n_pool];
        for &i in selected {
            is_in[i as usize] = true;
        }
        let mut pos = vec![NONE; n_pool];
        let mut inside = Vec::with_capacity(selected.len());
        for &i in selected {
            pos[i as usize] = inside.len() as u32;
            inside.push(i);
        }
        let mut outside = Vec::with_capacity(n_pool.saturating_sub(selected.len()));
        for i in 0..n_pool {
            if !is_in[i] && eligible.is_none_or(|e| e[i]) {
                pos[i] = outside.len() as u32;
                outside.push(i as u32);
            }
        }
        Membership {
            inside,
            outside,
            pos,
            is_in,
        }
    }

    #[inline]
    pub fn contains(&self, i: u32) -> bool {
        self.is_in[i as usize]
    }

    /// `leave` (inside) and `join` (outside) exchange places.
    pub fn swap(&mut self, leave: u32, join: u32) {
        debug_assert!(self.is_in[leave as usize] && !self.is_in[join as usize]);
        let pi = self.pos[leave as usize];
        let pj = self.pos[join as usize];
        self.inside[pi as usize] = join;
        self.outside[pj as usize] = leave;
        self.pos[join as usize] = pi;
        self.pos[leave as usize] = pj;
        self.is_in[leave as usize] = false;
        self.is_in[join as usize] = true;
    }

    /// Moves `leave` from inside to outside.
    pub fn remove(&mut self, leave: u32) {
        debug_assert!(self.is_in[leave as usize]);
        let p = self.pos[leave as usize] as usize;
        let last = self.inside.pop().expect("non-empty");
        if last != leave {
            self.inside[p] = last;
            self.pos[last as usize] = p as u32;
        }
        self.pos[leave as usize] = self.outside.len() as u32;
        self.outside.push(leave);
        self.is_in[leave as usize] = false;
    }

    /// Sorted selected rows.
    pub fn sorted_inside(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.inside.iter().map(|&i| i as usize).collect();
        v.sort_unstable();
        v
    }
}
