// A fresh in-memory IndexedDB for every test file (fake-indexeddb), as in a browser.
import 'fake-indexeddb/auto'
