// The process, thread and read-model helpers live in the Soak library (the soak driver uses them
// too); tests get them through TestSupport.
@_exported import Soak
