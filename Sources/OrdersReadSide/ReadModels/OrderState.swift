import OrdersDomain

/// What the order read model holds for one order: the order while it is visible and, once it is
/// deleted, only the words it was created with. Those stay in the search's word sets for good
/// (a deleted order's record is gone, so search never shows it), which keeps every word set
/// growing only, so that "past its bound" is a property of the log alone and a rebuild reaches
/// the same common words as the live model (`OrderProjection.commonWordBound`).
public enum OrderState: Sendable, Equatable {
    case visible(OrderView)
    case deleted(words: Set<String>)

    /// The order as `getOrder` shows it, while it is visible.
    public var view: OrderView? {
        if case .visible(let view) = self { return view }
        return nil
    }

    /// The words of what people typed, which the order holds in the word sets from its creation on.
    public var textWords: Set<String> {
        switch self {
        case .visible(let view): return view.textWords
        case .deleted(let words): return words
        }
    }
}
