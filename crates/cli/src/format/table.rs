//! docker's table writer: Go's `text/tabwriter` (docker's fork, which
//! measures cells by display width) with docker's settings — minimum cell
//! width 10, padding 3, padded with spaces, no flags.
//!
//! Semantics kept from Go: cells are tab-terminated; the text after the
//! last tab of a line is not part of a column; a column block is a run of
//! consecutive lines that have a cell in that column, and each block is
//! aligned on its own; a line without any tab ends all blocks.

use unicode_width::UnicodeWidthStr;

/// docker's `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.
pub fn docker_table(text: &str) -> String {
    TabWriter::new(10, 3).format(text)
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    /// Byte range in the source line.
    start: usize,
    end: usize,
    width: usize,
}

/// An aligning writer for tab-separated text.
#[derive(Debug)]
pub struct TabWriter {
    minwidth: usize,
    padding: usize,
}

impl TabWriter {
    /// A writer with Go's `minwidth` and `padding` (tabwidth is irrelevant
    /// when padding with spaces).
    pub fn new(minwidth: usize, padding: usize) -> TabWriter {
        TabWriter { minwidth, padding }
    }

    /// Align `text`: every line's tab-terminated cells padded to their
    /// column block's width.
    pub fn format(&self, text: &str) -> String {
        // Split into lines of cells; the last cell of each line is the text
        // after the last tab (not tab-terminated).
        let mut lines: Vec<(&str, Vec<Cell>)> = Vec::new();
        let ends_with_newline = text.ends_with('\n');
        let body = if ends_with_newline {
            &text[..text.len() - 1]
        } else {
            text
        };
        for line in body.split('\n') {
            let mut cells = Vec::new();
            let mut start = 0;
            for (i, c) in line.char_indices() {
                if c == '\t' || c == '\u{b}' {
                    cells.push(Cell {
                        start,
                        end: i,
                        width: UnicodeWidthStr::width(&line[start..i]),
                    });
                    start = i + 1;
                }
            }
            cells.push(Cell {
                start,
                end: line.len(),
                width: UnicodeWidthStr::width(&line[start..]),
            });
            lines.push((line, cells));
        }
        let mut out = String::with_capacity(text.len() * 2);
        let mut widths: Vec<usize> = Vec::new();
        self.format_block(&lines, 0, lines.len(), &mut widths, &mut out);
        if !ends_with_newline {
            // Go keeps the unterminated last line as is (it has been
            // written by write_lines without its newline).
            if out.ends_with('\n') {
                out.pop();
            }
        }
        out
    }

    /// Go's `format`: find column blocks recursively, then write lines.
    fn format_block(
        &self,
        lines: &[(&str, Vec<Cell>)],
        mut line0: usize,
        line1: usize,
        widths: &mut Vec<usize>,
        out: &mut String,
    ) {
        let column = widths.len();
        let mut this = line0;
        while this < line1 {
            let cells = &lines[this].1;
            if column + 1 >= cells.len() {
                this += 1;
                continue;
            }
            // a cell exists in this column: print the lines before the block
            self.write_lines(lines, line0, this, widths, out);
            line0 = this;
            // column block
            let mut width = self.minwidth;
            let mut discardable = true;
            while this < line1 {
                let cells = &lines[this].1;
                if column + 1 >= cells.len() {
                    break;
                }
                let c = cells[column];
                let w = c.width + self.padding;
                if w > width {
                    width = w;
                }
                if c.width > 0 {
                    discardable = false;
                }
                this += 1;
            }
            let _ = discardable; // DiscardEmptyColumns is not set by docker
            widths.push(width);
            self.format_block(lines, line0, this, widths, out);
            widths.pop();
            line0 = this;
        }
        self.write_lines(lines, line0, line1, widths, out);
    }

    fn write_lines(
        &self,
        lines: &[(&str, Vec<Cell>)],
        line0: usize,
        line1: usize,
        widths: &[usize],
        out: &mut String,
    ) {
        for (text, cells) in &lines[line0..line1] {
            for (j, c) in cells.iter().enumerate() {
                out.push_str(&text[c.start..c.end]);
                // the last cell of a line is not padded
                if j + 1 < cells.len()
                    && let Some(w) = widths.get(j)
                {
                    for _ in c.width..*w {
                        out.push(' ');
                    }
                }
            }
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_images_table() {
        let t = "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\nberth/bb\tv1\te7bd9ff12dc4\tLess than a second ago\t1.98MB\nbusybox\tlatest\teb9f4d4b8915\tLess than a second ago\t1.98MB\n";
        let want = "REPOSITORY   TAG       IMAGE ID       CREATED                  SIZE\nberth/bb     v1        e7bd9ff12dc4   Less than a second ago   1.98MB\nbusybox      latest    eb9f4d4b8915   Less than a second ago   1.98MB\n";
        assert_eq!(docker_table(t), want);
    }

    #[test]
    fn blocks_are_aligned_separately() {
        // a line without a tab ends the block
        let t = "a\tb\nlonger-cell\tc\nplain line\nx\ty\n";
        let want = "a             b\nlonger-cell   c\nplain line\nx         y\n";
        assert_eq!(docker_table(t), want);
    }

    #[test]
    fn empty_cells_and_wide_chars() {
        let t = "A\t\tC\n\tB\t\n";
        assert_eq!(
            docker_table(t),
            "A                   C\n          B         \n"
        );
        let t = "日本\tx\nab\ty\n";
        assert_eq!(docker_table(t), "日本      x\nab        y\n");
    }
}
