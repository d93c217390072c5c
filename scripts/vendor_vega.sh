#!/usr/bin/env bash
# Write .dvc/plots.html: the page template of `dvc plots show` and `dvc plots diff` (set as plots.html_template
# in .dvc/config), with vega, vega-lite and vega-embed inlined so that the page renders with no network.
# DVC's own template loads them from a CDN. The versions are the ones dvc-render's templates are written for.
# The output is committed; rerun this (it needs npm and the npm registry) only to change a version.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(vega@5.20.2 vega-lite@5.2.0 vega-embed@6.18.2)
BUILDS=(vega/build/vega.min.js vega-lite/build/vega-lite.min.js vega-embed/build/vega-embed.min.js)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for package in "${PACKAGES[@]}"; do
  name=${package%@*}
  (cd "$work" && npm pack --silent "$package" >/dev/null && mkdir "$name" && tar xzf "$name"-*.tgz -C "$name" --strip-components 1)
done

out=.dvc/plots.html
{
  cat <<'HEAD'
<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
{refresh_tag}
<title>DVC plots</title>
HEAD
  for i in "${!BUILDS[@]}"; do
    echo "<!-- ${PACKAGES[$i]} (BSD-3-Clause), inlined by scripts/vendor_vega.sh -->"
    echo "<script>"
    cat "$work/${BUILDS[$i]}"
    echo
    echo "</script>"
  done
  cat <<'TAIL'
<script>
  // SVG rather than canvas: the marks are elements a browser test can count, and the charts print sharply.
  // Each chart's promise is kept, so that a test can wait for all of them (document.body.dataset.rendered).
  // The template has no scripts placeholder: DVC would put its CDN script tags there.
  const embedAsGiven = vegaEmbed;
  const rendering = [];
  window.vegaEmbed = (el, spec, options) => {
    const done = embedAsGiven(el, spec, Object.assign({renderer: "svg"}, options));
    rendering.push(done);
    return done;
  };
  window.addEventListener("load", () => Promise.allSettled(rendering).then((results) => {
    document.body.dataset.rendered = results.filter((r) => r.status === "fulfilled").length + "/" + results.length;
  }));
</script>
<style>
  body { font-family: sans-serif; }
  table { border-spacing: 15px; }
</style>
</head>
<body>
{plot_divs}
</body>
</html>
TAIL
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(wc -c < "$out") bytes)"
