#!/bin/sh
# Builds a hand-made viewer page (3-slice z-stack, 2400×1600, DZI pyramids from `vips dzsave`)
# for developing the viewer before `vitrine build` can make one. Output: tests/browser/dev/out/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/out"
rm -rf "$out"
mkdir -p "$out/assets" "$out/datasets/dev"
cp "$here/../../../themes/default/static/assets/viewer.js" "$here/../../../themes/default/static/assets/viewer.css" "$out/assets/"
cd "$out/datasets/dev"
for i in 0 1 2; do
  mkdir -p "media/s$i"
  vips zone zone.v 2400 1600
  vips linear zone.v lin.v 100 $((80 + 40 * i)) --uchar
  vips gaussnoise noise.v 2400 1600 --sigma 20 --mean 0
  vips add lin.v noise.v sum.v
  vips cast sum.v "slice$i.png" uchar
  vips dzsave "slice$i.png" "media/s$i/tiles" --tile-size 254 --overlap 1 --suffix .jpg --depth onepixel
  vips thumbnail "slice$i.png" "media/s$i/view.jpg" 1200
  rm -f zone.v lin.v noise.v sum.v "slice$i.png"
done
cp "$here/page.html" index.html
mkdir -p ../../private/dev && sed 's/&quot;private&quot;:false/\&quot;private\&quot;:true/; s/ data-viewer=/ data-private data-viewer=/' index.html > ../../private/dev/index.html
cp -r media ../../private/dev/
cat > "$out/index.html" <<'HTML'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Dev gallery</title></head>
<body><main><h1>Dev gallery</h1><ul><li><a href="datasets/dev/">Dev stack</a></li></ul></main></body></html>
HTML
echo "open http://127.0.0.1:<port>/datasets/dev/ (node tests/browser/serve.mjs $out)"
