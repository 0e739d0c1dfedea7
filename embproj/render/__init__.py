"""Stage 8, render: the plotted rows, maps and structure as one self-contained HTML page (Bokeh inlined, Jinja).
`assemble.make_page`; `page.render_html` returns the page as a string."""
