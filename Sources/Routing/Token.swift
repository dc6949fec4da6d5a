/// One normalised token: where it sits in the original UTF-8 text and in the scalar buffer.
struct Token {
    enum Script: UInt8 { case latin, arabic, digits }
    var utf8Start: Int32
    var utf8End: Int32
    var normStart: Int32
    var normEnd: Int32
    var script: Script
    /// French plural folding of the spelling (the skeleton keeps the whole word: tobis, nammous).
    var fold: PluralFold = .none

    enum PluralFold: UInt8 {
        case none
        case dropLast   // poubelles -> poubelle, feux -> feu
        case auxToAl    // chevaux -> cheval
    }
}
