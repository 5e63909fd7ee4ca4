// The deadline a resident may care about now, in words.
const ui = require('./ui')

const OPEN = ['submitted', 'claimed', 'in_progress', 'escalated', 'reopened']

function deadlineText(order) {
  if (OPEN.indexOf(order.state) < 0) return ''
  if (order.state === 'submitted' && order.claim_by) return ui.when(order.claim_by) + ' 前接单'
  if (order.resolve_by) return ui.when(order.resolve_by) + ' 前办结'
  if (order.due_at) return ui.when(order.due_at) + ' 前处理'
  return ''
}

module.exports = { deadlineText, OPEN }
