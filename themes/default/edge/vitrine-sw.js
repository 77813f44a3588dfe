// vitrine service worker: placeholder until the static loader lands.
