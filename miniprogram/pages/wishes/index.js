// 微心愿: my wishes, and for a registered member (双报到) the community's board and what I claimed
// (GET /api/v1/wishes; other residents' wishes come masked).
const api = require('../../utils/api')
const ui = require('../../utils/ui')

Component({
  data: { large: false, loading: true, error: '', mine: [], open: [], held: [], memberships: [] },
  methods: {
    onLoad() {
      this.setData({ large: ui.isLarge() })
      return this.load()
    },
    onShow() {
      this.setData({ large: ui.isLarge() })
      return this.loaded ? this.load() : null
    },
    async load() {
      this.setData({ loading: !this.loaded, error: '' })
      try {
        const board = await api.get('/api/v1/wishes')
        this.loaded = true
        this.setData({ loading: false, mine: board.mine, open: board.open, held: board.held, memberships: board.memberships })
      } catch (err) {
        this.setData({ loading: false, error: ui.errorText(err) })
      }
    },
    open(e) { wx.navigateTo({ url: '/pages/wishes/detail?id=' + e.currentTarget.dataset.id }) },
    newWish() { wx.navigateTo({ url: '/pages/wishes/new' }) },
    volunteer() { wx.navigateTo({ url: '/pages/wishes/volunteer' }) },
  },
})
