// The Office.js global (`Office`) as typed by @types/office-js. Only addin/ code refers to it.
/// <reference types="office-js" />
